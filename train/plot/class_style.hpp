// How a class (or a curve) is told apart: one of ten qualitative colours combined with one of ten
// marker shapes, the colour changing fastest, so 100 classes get 100 distinct (colour, marker)
// pairs, and the first ten differ in colour alone.
#pragma once

#include "train/plot/canvas.hpp"

namespace torus::train::plot {

enum class Marker { circle, square, triangle_up, diamond, triangle_down, plus, cross, pentagon, star, hexagon };
inline constexpr int kColours = 10, kMarkers = 10;

struct ClassStyle {
  Rgb colour;
  Marker marker = Marker::circle;
};

// Style of class k >= 0 (a negative k gets class 0's); repeats after kColours * kMarkers classes.
ClassStyle class_style(int k);

// The marker centred on (x, y) with radius r; the line markers (plus, cross) are stroked.
void draw_marker(Canvas& c, double x, double y, double r, const ClassStyle& style);

}  // namespace torus::train::plot
