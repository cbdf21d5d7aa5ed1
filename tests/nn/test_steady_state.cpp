// A steady-state training step allocates nothing through operator new: the tape keeps every
// node's buffers, and the loss, the optimisers and the ops reuse theirs. This executable replaces
// the global operator new to count allocations; a step that allocates is a regression in speed
// (page faults and allocator work at every step) even when its numbers are right.
#include <catch2/catch.hpp>

#include "nn/adam.hpp"
#include "nn/models.hpp"
#include "nn/contrastive_features.hpp"
#include "nn/koleo.hpp"
#include "nn/sgd.hpp"
#include "nn/supcon.hpp"

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

namespace {
std::atomic<long> allocations{0};

void* counted(std::size_t n, std::size_t alignment) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = std::max(alignment, alignof(std::max_align_t));
  void* p = std::aligned_alloc(a, (std::max<std::size_t>(n, 1) + a - 1) / a * a);
  if (!p) throw std::bad_alloc();
  return p;
}

void* counted_or_null(std::size_t n, std::size_t alignment) noexcept {
  try {
    return counted(n, alignment);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
}  // namespace

void* operator new(std::size_t n) { return counted(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return counted(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) { return counted(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted(n, std::size_t(a)); }
// The nothrow forms too: left to the default (or to ASan's) they would pair another allocator's
// memory with our free.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_or_null(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_or_null(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counted_or_null(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counted_or_null(n, std::size_t(a)); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace torus;
using namespace torus::nn;

namespace {
// The trainer's step: two views, SupCon plus KoLeo, backward, optimiser step. Returns the
// operator-new calls of the last of `steps` steps.
long allocations_in_last_step(HeadMode mode, Optimizer<float>& optimizer, Module<float>& net, int steps,
                               std::vector<int64_t> image = {1, 28, 28}) {
  const int64_t B = 16;
  std::vector<int> labels(B);
  for (int64_t i = 0; i < B; ++i) labels[std::size_t(i)] = int(i % 4);
  Tensor<float> images(Shape{2 * B, image[0], image[1], image[2]});
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  for (int64_t i = 0; i < images.numel(); ++i) images[i] = pixel(rng);
  Tape<float> tape;
  long before = 0;
  for (int s = 0; s < steps; ++s) {
    before = allocations.load();
    tape.clear();
    optimizer.zero_grad();
    const Var<float> z = net.forward(tape.constant(images));
    const auto cf = contrastive_features(z, mode);
    const Var<float> loss = supcon_loss(cf.f, labels, 2, cf.scale, SupConOptions{}).loss + koleo_loss(cf.f, 2) * 0.1;
    tape.backward(loss);
    optimizer.step();
  }
  return allocations.load() - before;
}
}  // namespace

TEST_CASE("a steady-state training step allocates nothing", "[nn][steady]") {
  for (HeadMode mode : {HeadMode::torusN, HeadMode::sphere}) {
    std::mt19937_64 rng(1);
    FmnistConvNet<float> net({mode, 0, 16, 0, {}}, rng);
    Sgd<float> sgd(net.parameters(), {0.05, 0.9, false, 5e-4});
    CHECK(allocations_in_last_step(mode, sgd, net, 3) == 0);
    Adam<float> adam(net.parameters(), {});
    CHECK(allocations_in_last_step(mode, adam, net, 3) == 0);
  }
}

// W7's and W8's networks (issue 14): batch norm, stride-2 and 1x1 convolutions, residual additions,
// global pooling, max pooling, on 3x32x32 inputs (narrow widths: what allocates does not depend on
// the width).
TEST_CASE("a steady-state step of ResNet-20 and VGG-11-BN allocates nothing", "[nn][steady]") {
  std::mt19937_64 rng(2);
  const OutputSpec out = OutputSpec::embedding(HeadMode::torusN, 16);
  const std::unique_ptr<Network<float>> resnet = make_resnet20<float>(3, 4, out, rng);
  Sgd<float> sgd_resnet(resnet->parameters(), {0.05, 0.9, false, 0.0});
  CHECK(allocations_in_last_step(HeadMode::torusN, sgd_resnet, *resnet, 3, {3, 32, 32}) == 0);
  const std::unique_ptr<Network<float>> vgg = make_vgg11_bn<float>(3, {4, 8, 16, 16}, false, out, rng);
  Sgd<float> sgd_vgg(vgg->parameters(), {0.05, 0.9, false, 0.0});
  CHECK(allocations_in_last_step(HeadMode::torusN, sgd_vgg, *vgg, 3, {3, 32, 32}) == 0);
}
