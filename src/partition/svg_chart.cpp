#include "svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "dnnsplit/error.h"

namespace dnnsplit::partition::detail {

namespace {

constexpr double kWidth = 960;
constexpr double kHeight = 560;
constexpr double kLeft = 90;
constexpr double kRight = 190;  // room for the legend
constexpr double kTop = 50;
constexpr double kBottom = 170;  // room for rotated category labels

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

std::string power_label(int exponent) {
  static const char* kSuffix[] = {"", " k", " M", " G", " T"};
  if (exponent < 0) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "1e%d", exponent);
    return buffer;
  }
  const int group = std::min(exponent / 3, 4);
  const int rest = exponent - group * 3;
  return std::string(rest == 0 ? "1" : rest == 1 ? "10" : "100") + kSuffix[group];
}

// A "nice" tick step for a linear axis spanning `range`.
double tick_step(double range) {
  const double raw = range / 8.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double f : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (f * magnitude >= raw) return f * magnitude;
  }
  return 10.0 * magnitude;
}

}  // namespace

std::string group_thousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string render_svg(const Chart& chart) {
  check(!chart.categories.empty(), "chart '" + chart.title + "' has no data");
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  // Y range.
  double lo = chart.log_y ? HUGE_VAL : chart.y_min;
  double hi = chart.log_y ? 0.0 : chart.y_max;
  for (const auto& s : chart.series) {
    for (double v : s.values) {
      if (chart.log_y && v <= 0) continue;  // nothing to draw on a log axis
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  for (const auto& line : chart.lines) {
    lo = std::min(lo, line.value);
    hi = std::max(hi, line.value);
  }
  if (chart.log_y && lo == HUGE_VAL) {
    lo = 1.0;
    hi = 10.0;
  }
  double y0 = 0;
  double y1 = 1;
  if (chart.log_y) {
    y0 = std::floor(std::log10(std::max(lo, 1.0)));
    y1 = std::max(y0 + 1, std::ceil(std::log10(std::max(hi, 1.0))));
  } else {
    y0 = std::min(0.0, lo);
    y1 = hi > y0 ? hi : y0 + 1;
  }
  const double step = chart.log_y ? 1.0 : tick_step(y1 - y0);
  if (!chart.log_y) y1 = std::ceil(y1 / step) * step;
  auto y_of = [&](double v) {
    const double t = chart.log_y ? (std::log10(std::max(v, 1e-300)) - y0) / (y1 - y0) : (v - y0) / (y1 - y0);
    return kTop + plot_h * (1.0 - std::clamp(t, 0.0, 1.0));
  };
  const size_t n = chart.categories.size();
  const double slot = plot_w / static_cast<double>(n);
  auto x_of = [&](size_t i) { return kLeft + slot * (static_cast<double>(i) + 0.5); };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
      << "\" viewBox=\"0 0 " << kWidth << " " << kHeight << "\" font-family=\"Helvetica, Arial, sans-serif\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << kWidth / 2 << "\" y=\"28\" font-size=\"18\" text-anchor=\"middle\" font-weight=\"bold\">"
      << escape(chart.title) << "</text>\n";
  // Grid and y ticks.
  for (double v = y0; v <= y1 + 1e-9; v += step) {
    const double y = y_of(chart.log_y ? std::pow(10.0, v) : v);
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << num(y) << "\" x2=\"" << kLeft + plot_w << "\" y2=\"" << num(y)
        << "\" stroke=\"#e0e0e0\"/>\n";
    svg << "<line x1=\"" << kLeft - 5 << "\" y1=\"" << num(y) << "\" x2=\"" << kLeft << "\" y2=\"" << num(y)
        << "\" stroke=\"black\"/>\n";
    const std::string label = chart.log_y ? power_label(static_cast<int>(std::lround(v)))
                                          : (step < 1 ? num(v) : group_thousands(std::llround(v)));
    svg << "<text x=\"" << kLeft - 8 << "\" y=\"" << num(y + 4) << "\" font-size=\"12\" text-anchor=\"end\">"
        << escape(label) << "</text>\n";
  }
  // Axes.
  svg << "<line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\"" << kTop + plot_h
      << "\" stroke=\"black\"/>\n";
  svg << "<line x1=\"" << kLeft << "\" y1=\"" << kTop + plot_h << "\" x2=\"" << kLeft + plot_w << "\" y2=\""
      << kTop + plot_h << "\" stroke=\"black\"/>\n";
  for (size_t i = 0; i < n; ++i) {
    const double x = x_of(i);
    svg << "<line x1=\"" << num(x) << "\" y1=\"" << kTop + plot_h << "\" x2=\"" << num(x) << "\" y2=\""
        << kTop + plot_h + 5 << "\" stroke=\"black\"/>\n";
    svg << "<text font-size=\"11\" text-anchor=\"end\" transform=\"translate(" << num(x + 4) << ","
        << kTop + plot_h + 14 << ") rotate(-45)\">" << escape(chart.categories[i]) << "</text>\n";
  }
  svg << "<text x=\"" << kLeft + plot_w / 2 << "\" y=\"" << kHeight - 12 << "\" font-size=\"14\" text-anchor=\"middle\">"
      << escape(chart.x_label) << "</text>\n";
  svg << "<text font-size=\"14\" text-anchor=\"middle\" transform=\"translate(22," << kTop + plot_h / 2
      << ") rotate(-90)\">" << escape(chart.y_label) << "</text>\n";
  // Reference lines.
  for (const auto& line : chart.lines) {
    const double y = y_of(line.value);
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << num(y) << "\" x2=\"" << kLeft + plot_w << "\" y2=\"" << num(y)
        << "\" stroke=\"" << line.color << "\" stroke-dasharray=\"6,4\"/>\n";
  }
  // Data.
  size_t bar_series = 0;
  for (const auto& s : chart.series) bar_series += s.bars ? 1 : 0;
  size_t bar_index = 0;
  for (const auto& s : chart.series) {
    if (s.bars) {
      const double width = slot * 0.7 / static_cast<double>(bar_series);
      for (size_t i = 0; i < s.values.size() && i < n; ++i) {
        const double x = x_of(i) - slot * 0.35 + width * static_cast<double>(bar_index);
        const double y = y_of(s.values[i]);
        svg << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(width) << "\" height=\""
            << num(kTop + plot_h - y) << "\" fill=\"" << s.color << "\"><title>" << escape(chart.categories[i])
            << ": " << group_thousands(std::llround(s.values[i])) << "</title></rect>\n";
        svg << "<text x=\"" << num(x + width / 2) << "\" y=\"" << num(y - 4) << "\" font-size=\"10\" "
            << "text-anchor=\"middle\">" << group_thousands(std::llround(s.values[i])) << "</text>\n";
      }
      ++bar_index;
      continue;
    }
    svg << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < s.values.size() && i < n; ++i) svg << num(x_of(i)) << "," << num(y_of(s.values[i])) << " ";
    svg << "\"/>\n";
    for (size_t i = 0; i < s.values.size() && i < n; ++i) {
      svg << "<circle cx=\"" << num(x_of(i)) << "\" cy=\"" << num(y_of(s.values[i])) << "\" r=\"3.5\" fill=\""
          << s.color << "\"><title>" << escape(s.name + " after " + chart.categories[i]) << ": " << num(s.values[i])
          << "</title></circle>\n";
    }
  }
  // Legend.
  double ly = kTop + 10;
  const double lx = kLeft + plot_w + 20;
  for (const auto& s : chart.series) {
    if (s.bars) {
      svg << "<rect x=\"" << lx << "\" y=\"" << num(ly - 9) << "\" width=\"18\" height=\"12\" fill=\"" << s.color << "\"/>\n";
    } else {
      svg << "<line x1=\"" << lx << "\" y1=\"" << num(ly - 3) << "\" x2=\"" << lx + 18 << "\" y2=\"" << num(ly - 3)
          << "\" stroke=\"" << s.color << "\" stroke-width=\"2\"/><circle cx=\"" << lx + 9 << "\" cy=\"" << num(ly - 3)
          << "\" r=\"3.5\" fill=\"" << s.color << "\"/>\n";
    }
    svg << "<text x=\"" << lx + 24 << "\" y=\"" << num(ly + 1) << "\" font-size=\"12\">" << escape(s.name) << "</text>\n";
    ly += 20;
  }
  for (const auto& line : chart.lines) {
    svg << "<line x1=\"" << lx << "\" y1=\"" << num(ly - 3) << "\" x2=\"" << lx + 18 << "\" y2=\"" << num(ly - 3)
        << "\" stroke=\"" << line.color << "\" stroke-dasharray=\"6,4\"/>\n";
    svg << "<text x=\"" << lx + 24 << "\" y=\"" << num(ly + 1) << "\" font-size=\"12\">" << escape(line.label) << "</text>\n";
    ly += 20;
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace dnnsplit::partition::detail
