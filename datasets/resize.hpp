// Resampling of planar images (C, H, W): area averaging on an axis that shrinks (each output pixel
// is the mean of the input area it covers, so downscaling never aliases and a 2x reduction is the
// exact mean of 2x2 blocks), bilinear interpolation between pixel centres on an axis that grows
// (align_corners = False, edges clamped, as torchvision and OpenCV), and an exact copy on an axis
// that keeps its size. The axes are resampled one after the other, each with its own rule.
#pragma once

namespace torus::datasets {

// src (channels, in_h, in_w) -> dst (channels, out_h, out_w); all sizes >= 1. dst must not alias src.
void resize_planes(const float* src, int channels, int in_h, int in_w, float* dst, int out_h, int out_w);

}  // namespace torus::datasets
