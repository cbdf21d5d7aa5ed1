#include "nn/batchnorm.hpp"

#include "autodiff/parallel.hpp"
#include "nn/dist/communicator.hpp"

#include <cmath>

namespace torus::nn {

namespace {
const OpName kBatchNorm("batch_norm", "nn");

// (N, C, S) view: S = H W (1 for (N, C)); channel c of image n is the run [(n C + c) S, + S).
struct BnShape {
  int64_t N, C, S;
  int64_t count() const { return N * S; }
};

struct BnState {
  BnShape shape;
  bool training;                   // batch statistics (which depend on x) rather than the running ones
  const dist::Communicator* sync;  // sync batch norm: statistics over these ranks; null: this rank's
  double count;                    // M, the values per channel the statistics are over (all ranks')
};

// The two buffers the forward keeps, in one saved tensor.
template <typename T>
struct BnSaved {
  T* xhat;  // (N, C, S) the normalised input
  T* rstd;  // (C) 1 / sqrt(var + eps)
};
template <typename T>
BnSaved<T> bn_saved(Tensor<T>& saved, const BnShape& b) {
  return {saved.data(), saved.data() + b.N * b.C * b.S};
}

BnShape bn_shape(const Shape& s) {
  if (s.rank() != 2 && s.rank() != 4) throw ShapeError("batch_norm: input must be (N, C) or (N, C, H, W), got " + s.str());
  return {s[0], s[1], s.rank() == 4 ? s[2] * s[3] : 1};
}
}  // namespace

template <typename T>
Var<T> batch_norm(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, Tensor<T>& running_mean,
                  Tensor<T>& running_var, bool training, double momentum, double eps, const dist::Communicator* sync) {
  const BnShape b = bn_shape(x.shape());
  if (gamma.shape() != Shape{b.C} || beta.shape() != Shape{b.C} || running_mean.shape() != Shape{b.C} ||
      running_var.shape() != Shape{b.C}) {
    throw ShapeError("batch_norm: gamma, beta and running statistics must be (" + std::to_string(b.C) + ") for input " +
                     x.shape().str());
  }
  if (!training) sync = nullptr;  // the running statistics are the same on every rank already
  if (training && !sync && b.count() < 2) {
    throw ShapeError("batch_norm: training needs more than one value per channel, got input " + x.shape().str());
  }
  Recording<T> rec = x.tape().record(kBatchNorm, {x, gamma, beta});
  rec.value().resize(x.shape());
  rec.saved().resize(Shape{b.N * b.C * b.S + b.C});
  const BnSaved<T> kept = bn_saved(rec.saved(), b);
  const T* src = x.value().data();
  const T* gam = gamma.value().data();
  const T* bet = beta.value().data();
  T* out = rec.value().data();
  // Sums in double: a float sum over 10^5 values would lose the variance.
  const auto channel_sum = [&](int64_t c) {
    double s = 0;
    for (int64_t n = 0; n < b.N; ++n)
      for (int64_t i = 0; i < b.S; ++i) s += src[(n * b.C + c) * b.S + i];
    return s;
  };
  const auto channel_squares = [&](int64_t c, double m) {  // sum of (x - m)^2
    double sq = 0;
    for (int64_t n = 0; n < b.N; ++n)
      for (int64_t i = 0; i < b.S; ++i) {
        const double d = src[(n * b.C + c) * b.S + i] - m;
        sq += d * d;
      }
    return sq;
  };
  const auto normalize = [&](int64_t c, T mean, T var) {
    kept.rstd[c] = T(1) / std::sqrt(var + T(eps));
    for (int64_t n = 0; n < b.N; ++n)
      for (int64_t i = 0; i < b.S; ++i) {
        const int64_t at = (n * b.C + c) * b.S + i;
        kept.xhat[at] = (src[at] - mean) * kept.rstd[c];
        out[at] = gam[c] * kept.xhat[at] + bet[c];
      }
  };
  // PyTorch's convention: the running variance moves towards the unbiased variance of `count` values.
  const auto update_running = [&](int64_t c, double m, double sq, double count) {
    running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * m);
    running_var[c] = T((1 - momentum) * running_var[c] + momentum * sq / (count - 1));
  };
  double count = double(b.count());
  if (!sync) {
    parallel_for(b.C, b.count() * 4, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        if (!training) {
          normalize(c, running_mean[c], running_var[c]);
          continue;
        }
        const double m = channel_sum(c) / count;
        const double sq = channel_squares(c, m);
        update_running(c, m, sq, count);
        normalize(c, T(m), T(sq / count));
      }
    });
  } else {
    // Sync batch norm: the statistics of the global batch, in the same two passes (mean, then
    // squares about it) with each pass's per-channel sums added over the ranks.
    std::vector<double> sums(size_t(b.C) + 1), squares(size_t(b.C));  // (C + 1): sums, then the value count
    parallel_for(b.C, b.count(), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) sums[size_t(c)] = channel_sum(c);
    });
    sums[size_t(b.C)] = count;
    sync->allreduce_sum(std::span<double>(sums));
    count = sums[size_t(b.C)];
    if (count < 2) {
      throw ShapeError("batch_norm: training needs more than one value per channel over all ranks, got input " +
                       x.shape().str() + " on rank " + std::to_string(sync->rank()));
    }
    parallel_for(b.C, b.count() * 2, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) squares[size_t(c)] = channel_squares(c, sums[size_t(c)] / count);
    });
    sync->allreduce_sum(std::span<double>(squares));
    parallel_for(b.C, b.count() * 2, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const double m = sums[size_t(c)] / count, sq = squares[size_t(c)];
        update_running(c, m, sq, count);
        normalize(c, T(m), T(sq / count));
      }
    });
  }
  rec.set_state(BnState{b, training, sync, count});
  return rec.backward([](Backward<T>& g) {
    // xhat = (x - mean) rstd, y = gamma xhat + beta. With dxhat = gamma dy and M values per channel:
    //   training:   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))   (mean and var depend on x)
    //   evaluation: dx = rstd dxhat                                           (running statistics are constants)
    //   dgamma = sum(dy xhat), dbeta = sum(dy)
    // Sync batch norm: mean and var depend on every rank's x, so the two means in dx are over the
    // global batch (M values on all ranks, sums allreduced); dgamma and dbeta stay this rank's
    // sums, which gradient averaging combines like any other parameter gradient.
    const BnState st = op_state<BnState>(g);
    const BnShape b = st.shape;
    const bool training = st.training;
    const BnSaved<T> kept = bn_saved(g.saved(), b);
    const T* xhat = kept.xhat;
    const T* rstd = kept.rstd;
    const T* dy = g.dout().data();
    const T* gam = g.in(1).data();
    const bool dx_needed = g.needs(0), dg_needed = g.needs(1), db_needed = g.needs(2);
    T* dx = dx_needed ? g.dx(0).data() : nullptr;
    T* dgamma = dg_needed ? g.dx(1).data() : nullptr;
    T* dbeta = db_needed ? g.dx(2).data() : nullptr;
    const auto channel_sums = [&](int64_t c, T& sum_dy, T& sum_dy_xhat) {
      sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t n = 0; n < b.N; ++n)
        for (int64_t i = 0; i < b.S; ++i) {
          const int64_t at = (n * b.C + c) * b.S + i;
          sum_dy += dy[at];
          sum_dy_xhat += dy[at] * xhat[at];
        }
    };
    const auto add_dx = [&](int64_t c, T sum_dy, T sum_dy_xhat) {
      const T scale = gam[c] * rstd[c];
      const T mean_dy = sum_dy / T(st.count), mean_dy_xhat = sum_dy_xhat / T(st.count);
      for (int64_t n = 0; n < b.N; ++n)
        for (int64_t i = 0; i < b.S; ++i) {
          const int64_t at = (n * b.C + c) * b.S + i;
          dx[at] += training ? scale * (dy[at] - mean_dy - xhat[at] * mean_dy_xhat) : scale * dy[at];
        }
    };
    if (!st.sync) {
      parallel_for(b.C, b.count() * 4, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          T sum_dy, sum_dy_xhat;
          channel_sums(c, sum_dy, sum_dy_xhat);
          if (dgamma) dgamma[c] += sum_dy_xhat;
          if (dbeta) dbeta[c] += sum_dy;
          if (dx) add_dx(c, sum_dy, sum_dy_xhat);
        }
      });
      return;
    }
    std::vector<T> sums(size_t(2 * b.C));  // (2, C): sum(dy), then sum(dy xhat)
    parallel_for(b.C, b.count() * 2, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        channel_sums(c, sums[size_t(c)], sums[size_t(b.C + c)]);
        if (dgamma) dgamma[c] += sums[size_t(b.C + c)];
        if (dbeta) dbeta[c] += sums[size_t(c)];
      }
    });
    // Every rank reaches this reduction: the ranks record the same graph, so dx_needed agrees.
    if (!dx) return;
    st.sync->allreduce_sum(std::span<T>(sums));
    parallel_for(b.C, b.count() * 2, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) add_dx(c, sums[size_t(c)], sums[size_t(b.C + c)]);
    });
  });
}

template <typename T>
BatchNorm<T>::BatchNorm(int64_t channels, double momentum_, double eps_) : momentum(momentum_), eps(eps_) {
  if (channels < 1) throw std::invalid_argument("BatchNorm: channels must be positive");
  weight.value = Tensor<T>(Shape{channels}, T(1));
  bias.value = Tensor<T>(Shape{channels}, T(0));
  running_mean = Tensor<T>(Shape{channels}, T(0));
  running_var = Tensor<T>(Shape{channels}, T(1));
}

template <typename T>
Var<T> BatchNorm<T>::forward(const Var<T>& x) {
  Tape<T>& tape = x.tape();
  return batch_norm(x, tape.param(weight), tape.param(bias), running_mean, running_var, this->training_, momentum, eps, sync);
}

template <typename T>
NamedParameters<T> BatchNorm<T>::parameters() {
  return {{"weight", &weight}, {"bias", &bias}};
}

template <typename T>
NamedBuffers<T> BatchNorm<T>::buffers() {
  return {{"running_mean", &running_mean}, {"running_var", &running_var}};
}

template Var<float> batch_norm(const Var<float>&, const Var<float>&, const Var<float>&, Tensor<float>&, Tensor<float>&, bool,
                               double, double, const dist::Communicator*);
template Var<double> batch_norm(const Var<double>&, const Var<double>&, const Var<double>&, Tensor<double>&, Tensor<double>&,
                                bool, double, double, const dist::Communicator*);
template class BatchNorm<float>;
template class BatchNorm<double>;

}  // namespace torus::nn
