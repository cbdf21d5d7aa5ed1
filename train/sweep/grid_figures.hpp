// The grid's figures (method.md 10's plot_evalmeasures.py, drawn by train/plot's Cairo canvas as
// PNG and SVG): precision@1 and circular variance against the KoLeo weight, one panel per D, one
// line per head (the mean over seeds of the cells that trained), failed cells as crosses in their
// head's colour at what they measured; one figure per dataset (and any further axis) and
// quantisation mode. And per head, bits per vector against precision@1 for every mode.
#pragma once

#include "train/sweep/results_table.hpp"

#include <string>
#include <vector>

namespace torus::sweep {

// The figures' group of a row: its dataset and the values of every axis the figures do not draw
// (anything but model.head, loss.koleo, model.dim, train.seed and data.dataset), folder-safe.
std::string figure_group(const GridSpec& grid, const ResultRow& row);

// Where the KoLeo axis puts weight w: log10(w), and 0 one decade left of the smallest positive
// weight (smallest_positive <= 0: no positive weight, 0 at 0).
double koleo_position(double w, double smallest_positive);

// Writes every figure into out_dir/figures/ and returns their PNG paths (relative to out_dir).
std::vector<std::string> write_grid_figures(const std::string& out_dir, const GridSpec& grid, const std::vector<ResultRow>& rows);

}  // namespace torus::sweep
