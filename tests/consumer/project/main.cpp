// Uses the engine, a layer and a geometry kernel, so every library has to link.
#include "autodiff/autodiff.hpp"
#include "geometry/flat_torus.hpp"
#include "nn/linear.hpp"

#include <cstdio>
#include <random>

int main() {
  using namespace torus;
  std::mt19937_64 rng(0);
  nn::Linear<float> fc(3, 2, rng);
  Tape<float> tape;
  Var<float> x = tape.variable(Tensor<float>(Shape{1, 3}, {1.0f, 2.0f, 3.0f}));
  Var<float> loss = sum(fc(x) * fc(x));
  tape.backward(loss);
  const float w = geometry::wrap01(-0.25f);
  std::printf("consumer ok: loss %.4f, |dx| %.4f, wrap01(-0.25) = %.2f\n", loss.value().item(),
              std::sqrt(x.grad().array().square().sum()), w);
  return loss.value().item() > 0 && w == 0.75f ? 0 : 1;
}
