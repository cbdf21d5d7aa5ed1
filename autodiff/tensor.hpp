// Shape and Tensor: the value type every op reads and writes.
// A Tensor is a shape plus contiguous row-major storage; a copy is a deep copy, a move is cheap,
// and resize() keeps capacity so buffers reused step after step stop allocating.
// Eigen sees the storage through Maps made on demand (array(), matrix()); there are no views that
// outlive a function, and no strides: every tensor is contiguous.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace torus {

inline constexpr int kMaxRank = 6;  // NCHW needs 4; permutes of grouped views need a little more

// Storage starts on a 64-byte boundary. Eigen evaluates the unaligned head of a buffer with scalar
// code and the rest with SIMD code, whose exp/tanh can differ in the last bit; a fixed alignment
// makes that split, and so every result, the same from run to run.
inline constexpr std::size_t kTensorAlignment = 64;

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kTensorAlignment)));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(kTensorAlignment)); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
};

// Thrown for every shape mismatch; the message names the op and the shapes involved.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class Shape {
 public:
  Shape() = default;  // rank 0: a scalar with one element
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);
  // The dimensions are stored inline (at most kMaxRank), so no constructor allocates: shapes are
  // built on every op call of every training step.
  explicit Shape(std::span<const int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int axis) const { return dims_[axis]; }
  int64_t& operator[](int axis) { return dims_[axis]; }
  int64_t numel() const;
  std::vector<int64_t> dims() const { return {dims_.begin(), dims_.begin() + rank_}; }
  // Python-style axis: -1 is the last one. Throws ShapeError naming `op` when out of range.
  int normalize_axis(int axis, const char* op) const;
  std::string str() const;  // "[2, 3]"

  friend bool operator==(const Shape& a, const Shape& b);
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

template <typename T>
class Tensor {
 public:
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ArrayMap = Eigen::Map<Array>;
  using ConstArrayMap = Eigen::Map<const Array>;
  using MatrixMap = Eigen::Map<Matrix>;
  using ConstMatrixMap = Eigen::Map<const Matrix>;

  Tensor() = default;
  explicit Tensor(const Shape& shape, T fill = T(0)) : shape_(shape), data_(shape.numel(), fill) {}
  Tensor(const Shape& shape, const std::vector<T>& values);  // throws if the count does not match

  const Shape& shape() const { return shape_; }
  int64_t numel() const { return static_cast<int64_t>(data_.size()); }
  T* data() { return data_.data(); }
  const T* data() const { return data_.data(); }
  T& operator[](int64_t i) { return data_[i]; }
  const T& operator[](int64_t i) const { return data_[i]; }
  T item() const;  // the single element of a one-element tensor

  ArrayMap array() { return ArrayMap(data_.data(), numel()); }
  ConstArrayMap array() const { return ConstArrayMap(data_.data(), numel()); }
  // Row-major (rows x cols) view of the whole buffer; rows * cols must equal numel().
  MatrixMap matrix(int64_t rows, int64_t cols);
  ConstMatrixMap matrix(int64_t rows, int64_t cols) const;

  // Changes the shape; contents are unspecified afterwards. Never shrinks capacity.
  void resize(const Shape& shape) {
    shape_ = shape;
    data_.resize(shape.numel());
  }
  // Same elements, new shape of equal size.
  void reshape(const Shape& shape);
  void fill(T value) { std::fill(data_.begin(), data_.end(), value); }
  void set_zero(const Shape& shape) {
    resize(shape);
    fill(T(0));
  }

 private:
  Shape shape_;
  std::vector<T, AlignedAllocator<T>> data_;
};

extern template class Tensor<float>;
extern template class Tensor<double>;

}  // namespace torus
