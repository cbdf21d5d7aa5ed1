// report.md: what the grid ran, which cells failed and why, and each qualitative claim of
// method.md 11 with whether this grid supports it and the numbers behind the answer (or that the
// grid lacks the axes to test it). Its thresholds are stated in the report beside each verdict.
#pragma once

#include "train/sweep/results_table.hpp"

#include <string>
#include <vector>

namespace torus::sweep {

void write_report(const std::string& out_dir, const GridSpec& grid, const std::vector<ResultRow>& rows,
                  const std::vector<std::string>& figures);

}  // namespace torus::sweep
