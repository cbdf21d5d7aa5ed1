// Shape bookkeeping and the few Tensor members that are not one-liners.
#include "autodiff/tensor.hpp"

#include <sstream>

namespace torus {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(const std::vector<int64_t>& dims) : Shape(std::span<const int64_t>(dims)) {}

Shape::Shape(std::span<const int64_t> dims) {
  if (dims.size() > static_cast<size_t>(kMaxRank)) {
    throw ShapeError("Shape: rank " + std::to_string(dims.size()) + " exceeds the maximum " +
                     std::to_string(kMaxRank));
  }
  rank_ = static_cast<int>(dims.size());
  for (int i = 0; i < rank_; ++i) {
    if (dims[i] < 0) throw ShapeError("Shape: negative dimension " + std::to_string(dims[i]));
    dims_[i] = dims[i];
  }
  numel();  // refuses dimensions whose product does not fit in int64
}

// Overflow-checked, because dimensions can come from files: [3037000500, 3037000500, 0] must be
// an empty shape, not a signed overflow on the way to the zero.
int64_t Shape::numel() const {
  for (int i = 0; i < rank_; ++i)
    if (dims_[i] == 0) return 0;
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    if (__builtin_mul_overflow(n, dims_[i], &n)) throw ShapeError("Shape: " + str() + " has more elements than int64 holds");
  }
  return n;
}

int Shape::normalize_axis(int axis, const char* op) const {
  const int a = axis < 0 ? axis + rank_ : axis;
  if (a < 0 || a >= rank_) {
    throw ShapeError(std::string(op) + ": axis " + std::to_string(axis) + " is out of range for shape " +
                     str());
  }
  return a;
}

std::string Shape::str() const {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < rank_; ++i) s << (i ? ", " : "") << dims_[i];
  s << ']';
  return s.str();
}

bool operator==(const Shape& a, const Shape& b) {
  if (a.rank_ != b.rank_) return false;
  for (int i = 0; i < a.rank_; ++i)
    if (a.dims_[i] != b.dims_[i]) return false;
  return true;
}

template <typename T>
Tensor<T>::Tensor(const Shape& shape, const std::vector<T>& values) : shape_(shape), data_(values.begin(), values.end()) {
  if (static_cast<int64_t>(data_.size()) != shape.numel()) {
    throw ShapeError("Tensor: shape " + shape.str() + " needs " + std::to_string(shape.numel()) +
                     " values, got " + std::to_string(data_.size()));
  }
}

template <typename T>
T Tensor<T>::item() const {
  if (numel() != 1) throw ShapeError("item: tensor of shape " + shape_.str() + " is not a single value");
  return data_[0];
}

template <typename T>
typename Tensor<T>::MatrixMap Tensor<T>::matrix(int64_t rows, int64_t cols) {
  if (rows * cols != numel()) {
    throw ShapeError("matrix: cannot view shape " + shape_.str() + " as " + std::to_string(rows) + "x" +
                     std::to_string(cols));
  }
  return MatrixMap(data_.data(), rows, cols);
}

template <typename T>
typename Tensor<T>::ConstMatrixMap Tensor<T>::matrix(int64_t rows, int64_t cols) const {
  if (rows * cols != numel()) {
    throw ShapeError("matrix: cannot view shape " + shape_.str() + " as " + std::to_string(rows) + "x" +
                     std::to_string(cols));
  }
  return ConstMatrixMap(data_.data(), rows, cols);
}

template <typename T>
void Tensor<T>::reshape(const Shape& shape) {
  if (shape.numel() != numel()) {
    throw ShapeError("reshape: cannot reshape " + shape_.str() + " to " + shape.str());
  }
  shape_ = shape;
}

template class Tensor<float>;
template class Tensor<double>;

}  // namespace torus
