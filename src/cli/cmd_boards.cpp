// dnnsplit boards [--json] [--boards-file F]: the board catalog.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "dnnsplit/boards.h"

namespace dnnsplit::cli {

namespace {

struct BoardsOptions {
  bool json = false;
  std::vector<std::string> boards_files;
};

nlohmann::ordered_json board_to_json(const Board& b) {
  const auto& r = b.resources;
  const auto& u = b.usable;
  return {
      {"name", b.name},
      {"display_name", b.display_name},
      {"part", b.part},
      {"dsp_block", dsp_block_name(b.dsp_block())},
      {"lut", r.lut},
      {"ff", r.ff},
      {"lutram", r.lutram},
      {"bram18", r.bram18},
      {"uram", r.uram},
      {"dsp", r.dsp},
      {"usable",
       {{"lut", u.lut}, {"ff", u.ff}, {"lutram", u.lutram}, {"bram18", u.bram18}, {"uram", u.uram}, {"dsp", u.dsp}}},
      {"clock_mhz", b.clock_mhz},
      {"reconfig_ms", b.reconfig_ms},
      {"link_mbps", b.link_mbps},
      {"source", b.source}};
}

void run_boards(const BoardsOptions& options) {
  BoardCatalog catalog = BoardCatalog::builtin();
  for (const auto& file : options.boards_files) catalog.add_file(file);
  if (options.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& b : catalog.boards()) list.push_back(board_to_json(b));
    std::printf("%s\n", list.dump(2).c_str());
    return;
  }
  const std::vector<std::string> header{"name", "part", "LUT",       "FF",          "LUTRAM",     "BRAM18",
                                        "URAM", "DSP",  "clock MHz", "reconfig ms", "link Mbit/s"};
  std::vector<std::vector<std::string>> rows{header};
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, v == static_cast<double>(static_cast<int64_t>(v)) ? "%.0f" : "%.1f", v);
    return std::string(buf);
  };
  for (const auto& b : catalog.boards()) {
    const auto& r = b.resources;
    rows.push_back({b.name, b.part, std::to_string(r.lut), std::to_string(r.ff), std::to_string(r.lutram),
                    std::to_string(r.bram18), std::to_string(r.uram), std::to_string(r.dsp), num(b.clock_mhz),
                    num(b.reconfig_ms), num(b.link_mbps)});
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      line += c < 2 ? row[c] + pad : pad + row[c];  // names left, numbers right
      if (c + 1 < row.size()) line += "  ";
    }
    std::printf("%s\n", line.c_str());
  }
  std::printf("\nBRAM counted in RAMB18 units. Usable fractions and the source of every figure: --json.\n");
}

}  // namespace

void add_boards_command(CLI::App& app) {
  auto options = std::make_shared<BoardsOptions>();
  app.add_flag("--json", options->json, "print a JSON array with usable fractions and sources");
  app.add_option("--boards-file", options->boards_files,
                 "JSON file in the format of data/boards.json whose boards are added (same name: replaced); "
                 "may be given several times");
  app.footer("The built-in catalog is data/boards.json, embedded at build time.");
  app.callback([options] { run_boards(*options); });
}

}  // namespace dnnsplit::cli
