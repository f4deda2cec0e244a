// Small hand-written SVG charts for the split-point report: categorical x axis, linear or
// logarithmic y axis, labelled axes with units, tick marks, a legend.
#pragma once

#include <string>
#include <vector>

namespace dnnsplit::partition::detail {

struct ChartSeries {
  std::string name;
  std::string color;  // CSS colour
  std::vector<double> values;
  bool bars = false;  // bars instead of a line with markers
};

struct ChartLine {  // a dashed horizontal reference line, e.g. a usable budget
  double value = 0.0;
  std::string label;
  std::string color;
};

struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<std::string> categories;  // one x tick per category
  std::vector<ChartSeries> series;
  std::vector<ChartLine> lines;
  bool log_y = false;
  double y_min = 0.0;  // linear axes: the range is widened to the data and lines
  double y_max = 0.0;
};

std::string render_svg(const Chart& chart);

// "14 400" style thousands grouping, "1 k" / "10 M" for log ticks.
std::string group_thousands(int64_t value);

}  // namespace dnnsplit::partition::detail
