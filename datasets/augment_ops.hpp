// The deterministic building blocks of augment_image, on planar float images (C, H, W) holding
// values in [0, 1]. Exposed so they can be tested with chosen parameters (a rotation of exactly
// 90 degrees, a given shift) rather than random ones.
#pragma once

namespace torus::datasets {

// Luma weights of greyscale conversion, also the grey of contrast and saturation.
inline constexpr float kLumaR = 0.299f, kLumaG = 0.587f, kLumaB = 0.114f;

// In place: mirrors every row.
void hflip_planes(float* img, int channels, int height, int width);
// dst(y, x) = src(y + dy, x + dx), 0 where that falls outside.
void shift_planes(const float* src, int channels, int height, int width, int dy, int dx, float* dst);
// Counter-clockwise by `degrees` (as displayed, y pointing down) about the centre
// ((width - 1) / 2, (height - 1) / 2); bilinear, 0 outside.
void rotate_planes(const float* src, int channels, int height, int width, double degrees, float* dst);

// In place, each result clamped to [0, 1] (torchvision's _blend):
void adjust_brightness(float* img, int channels, int height, int width, float factor);  // x * factor
void adjust_contrast(float* img, int channels, int height, int width, float factor);    // mean + factor (x - mean), mean of the grey image
void adjust_saturation(float* rgb, int height, int width, float factor);                 // grey + factor (x - grey), per pixel
void adjust_hue(float* rgb, int height, int width, float shift);                          // HSV hue + shift (turns), mod 1
void to_greyscale(float* rgb, int height, int width);                                    // luma on all three channels

}  // namespace torus::datasets
