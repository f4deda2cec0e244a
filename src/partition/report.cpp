// The split-point study: for every cut at a hardware-layer boundary, the first board's usage and
// the bytes per image crossing the cut, as Markdown, CSV and two SVG charts.
#include <cstdio>
#include <sstream>

#include "dnnsplit/cost.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/partition.h"
#include "model_cuts.h"
#include "output_dir.h"
#include "svg_chart.h"

namespace dnnsplit::partition {

namespace {

std::string percent(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
  return out;
}

HardwareOptions first_board_only(const HardwareOptions& selection) {
  check(!selection.boards.empty(), "no board given (use --board, e.g. --board zedboard)");
  HardwareOptions first = selection;
  first.boards = {selection.boards.front()};
  return first;
}

}  // namespace

std::vector<SplitPoint> split_points(const ir::Graph& graph, const HardwareOptions& selection) {
  const detail::ResolvedBoards boards = detail::resolve_boards(first_board_only(selection));
  const detail::ModelCuts cuts(graph, boards, selection, /*check_units_fit=*/false);
  const Board& board = boards.types[0];
  std::vector<SplitPoint> points;
  const int units = static_cast<int>(cuts.units().size());
  for (int b = 1; b < units; ++b) {
    SplitPoint point;
    point.position = cuts.position(b);
    point.after = cuts.units()[static_cast<size_t>(b) - 1].name;
    const cost::Resources r = cuts.resources(0, 0, b);
    point.lut = r.lut;
    point.lutram = r.lutram;
    point.bram18 = r.bram18;
    point.uram = r.uram;
    point.dsp = r.dsp;
    for (const auto& fit : cost::fit_on_board(r, board)) {
      if (fit.resource == "lut") point.lut_percent = fit.percent();
      if (fit.resource == "lutram") point.lutram_percent = fit.percent();
      if (fit.resource == "bram18") point.bram_percent = fit.percent();
      if (fit.resource == "uram") point.uram_percent = fit.percent();
      if (fit.resource == "dsp") point.dsp_percent = fit.percent();
    }
    point.fits = cost::fits_on_board(r, board);
    for (int t : cuts.tensors(b)) point.tensors.push_back(graph.tensor(t).name);
    point.bytes_per_image = cuts.bytes(b);
    points.push_back(std::move(point));
  }
  return points;
}

void write_report(const std::string& model_path, const HardwareOptions& selection, const std::string& out_dir) {
  const ir::Graph graph = import_model(model_path);
  const std::vector<SplitPoint> points = split_points(graph, selection);
  check(!points.empty(), model_path + ": the model has a single hardware layer group; there is no cut to study");
  const HardwareOptions first = first_board_only(selection);
  const Board board = detail::resolve_boards(first).types[0];
  const std::string folding =
      selection.folding_file.empty() ? "FINN's default folding (PE = SIMD = 1)" : "folding " + selection.folding_file;

  std::ostringstream md;
  md << "# Split points of " << model_path << " on " << board.display_name << "\n\n"
     << "For every cut at a hardware-layer boundary: the share of the board the part before the cut needs "
     << "(FINN's analytic estimates, " << folding << "; percentages of the whole device, no shell, FIFOs or "
     << "data-width converters) and the bytes per image crossing the cut, packed at their bit widths. "
     << "FF is not estimated by FINN. Usable budget: LUT " << board.usable.lut * 100 << " %, BRAM "
     << board.usable.bram18 * 100 << " %, DSP " << board.usable.dsp * 100 << " %.\n\n"
     << "| # | cut after | LUT % | LUTRAM % | FF % | BRAM % | DSP % | fits | bytes/image | tensors |\n"
     << "|---|---|---:|---:|---:|---:|---:|---|---:|---|\n";
  std::ostringstream csv;
  csv << "index,cut_position,cut_after,lut,lut_percent,lutram,lutram_percent,ff_percent,bram18,bram_percent,uram,"
         "uram_percent,dsp,dsp_percent,fits,bytes_per_image,tensors\n";
  for (size_t i = 0; i < points.size(); ++i) {
    const SplitPoint& p = points[i];
    md << "| " << i << " | " << p.after << " | " << percent(p.lut_percent) << " | " << percent(p.lutram_percent)
       << " | n/a | " << percent(p.bram_percent) << " | " << percent(p.dsp_percent) << " | "
       << (p.fits ? "yes" : "no") << " | " << detail::group_thousands(p.bytes_per_image) << " | "
       << join(p.tensors, ", ") << " |\n";
    csv << i << "," << p.position << "," << csv_field(p.after) << "," << p.lut << "," << percent(p.lut_percent)
        << "," << p.lutram << "," << percent(p.lutram_percent) << ",," << p.bram18 << "," << percent(p.bram_percent)
        << "," << p.uram << "," << percent(p.uram_percent) << "," << p.dsp << "," << percent(p.dsp_percent) << ","
        << (p.fits ? 1 : 0) << "," << p.bytes_per_image << "," << csv_field(join(p.tensors, " ")) << "\n";
  }
  md << "\nCharts: `usage.svg` (first board's usage per split point), `bytes.svg` (bytes per image "
        "crossing each cut, log scale).\n";

  detail::Chart usage;
  usage.title = "First board's usage per split point (" + board.name + ")";
  usage.x_label = "cut after hardware layer";
  usage.y_label = "share of the board (%)";
  usage.y_max = 100.0;
  detail::Chart bytes;
  bytes.title = "Data crossing each cut";
  bytes.x_label = "cut after hardware layer";
  bytes.y_label = "bytes per image (log scale)";
  bytes.log_y = true;
  detail::ChartSeries lut{"LUT", "#1f77b4", {}, false};
  detail::ChartSeries lutram{"LUTRAM", "#17becf", {}, false};
  detail::ChartSeries bram{"BRAM18", "#d62728", {}, false};
  detail::ChartSeries dsp{"DSP", "#2ca02c", {}, false};
  detail::ChartSeries data{"bytes/image", "#9467bd", {}, true};
  for (const SplitPoint& p : points) {
    usage.categories.push_back(p.after);
    bytes.categories.push_back(p.after);
    lut.values.push_back(p.lut_percent);
    lutram.values.push_back(p.lutram_percent);
    bram.values.push_back(p.bram_percent);
    dsp.values.push_back(p.dsp_percent);
    data.values.push_back(static_cast<double>(p.bytes_per_image));
  }
  usage.series = {lut, lutram, bram, dsp};
  usage.lines = {{board.usable.lut * 100.0, "LUT budget", "#1f77b4"},
                 {board.usable.bram18 * 100.0, "BRAM budget", "#d62728"}};
  bytes.series = {data};

  detail::write_directory_atomically(out_dir,
                                     {{"report.md", md.str()},
                                      {"report.csv", csv.str()},
                                      {"usage.svg", detail::render_svg(usage)},
                                      {"bytes.svg", detail::render_svg(bytes)}},
                                     "report.md");
}

}  // namespace dnnsplit::partition
