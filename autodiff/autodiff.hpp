// The engine in one include: tensors, the tape, every op, and the thread count.
#pragma once

#include "autodiff/ops.hpp"
#include "autodiff/parallel.hpp"
#include "autodiff/tape.hpp"
#include "autodiff/tensor.hpp"
