// Matrix product of 2-D tensors with optionally transposed operands, through Eigen's GEMM (which
// uses the thread count set by set_num_threads). Transposes are never materialised: Eigen reads
// the row-major buffers through transposed Maps.
#include "autodiff/ops_common.hpp"

namespace torus {

namespace {
const OpName kMatmul("matmul");

template <typename T>
using CMatrix = typename Tensor<T>::ConstMatrixMap;

template <typename T>
CMatrix<T> as_matrix(const Tensor<T>& t) {
  return t.matrix(t.shape()[0], t.shape()[1]);
}

struct MatmulState {
  bool transpose_a, transpose_b;  // C = op(A) op(B), op transposing when set
};
}  // namespace

template <typename T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, bool transpose_a, bool transpose_b) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  if (sa.rank() != 2 || sb.rank() != 2) {
    throw ShapeError("matmul: operands must be 2-D, got " + sa.str() + " and " + sb.str());
  }
  const int64_t m = transpose_a ? sa[1] : sa[0], ka = transpose_a ? sa[0] : sa[1];
  const int64_t kb = transpose_b ? sb[1] : sb[0], n = transpose_b ? sb[0] : sb[1];
  if (ka != kb) {
    throw ShapeError("matmul: inner dimensions differ for " + sa.str() + (transpose_a ? "^T" : "") + " @ " + sb.str() +
                     (transpose_b ? "^T" : "") + " (" + std::to_string(ka) + " vs " + std::to_string(kb) + ")");
  }
  Recording<T> rec = a.tape().record(kMatmul, {a, b});
  rec.set_state(MatmulState{transpose_a, transpose_b});
  rec.value().resize(Shape{m, n});
  auto C = rec.value().matrix(m, n);
  const auto A = as_matrix(a.value());
  const auto B = as_matrix(b.value());
  if (!transpose_a && !transpose_b) C.noalias() = A * B;
  else if (!transpose_a && transpose_b) C.noalias() = A * B.transpose();
  else if (transpose_a && !transpose_b) C.noalias() = A.transpose() * B;
  else C.noalias() = A.transpose() * B.transpose();
  return rec.backward([](Backward<T>& g) {
    const MatmulState t = op_state<MatmulState>(g);
    const bool ta = t.transpose_a, tb = t.transpose_b;
    const Tensor<T>& A = g.in(0);
    const Tensor<T>& B = g.in(1);
    const auto dC = as_matrix(g.dout());
    // C = op(A) op(B):  d op(A) = dC op(B)^T,  d op(B) = op(A)^T dC; transposing back gives:
    if (g.needs(0)) {
      Tensor<T>& dA = g.dx(0);
      auto dAm = dA.matrix(dA.shape()[0], dA.shape()[1]);
      const auto Bm = as_matrix(B);
      if (!ta && !tb) dAm.noalias() += dC * Bm.transpose();              // dA = dC B^T
      else if (!ta && tb) dAm.noalias() += dC * Bm;                      // dA = dC B
      else if (ta && !tb) dAm.noalias() += Bm * dC.transpose();          // dA = B dC^T
      else dAm.noalias() += Bm.transpose() * dC.transpose();             // dA = B^T dC^T
    }
    if (g.needs(1)) {
      Tensor<T>& dB = g.dx(1);
      auto dBm = dB.matrix(dB.shape()[0], dB.shape()[1]);
      const auto Am = as_matrix(A);
      if (!ta && !tb) dBm.noalias() += Am.transpose() * dC;              // dB = A^T dC
      else if (!ta && tb) dBm.noalias() += dC.transpose() * Am;          // dB = dC^T A
      else if (ta && !tb) dBm.noalias() += Am * dC;                      // dB = A dC
      else dBm.noalias() += dC.transpose() * Am.transpose();             // dB = dC^T A^T
    }
  });
}

template Var<float> matmul(const Var<float>&, const Var<float>&, bool, bool);
template Var<double> matmul(const Var<double>&, const Var<double>&, bool, bool);

}  // namespace torus
