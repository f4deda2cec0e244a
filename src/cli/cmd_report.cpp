// dnnsplit report MODEL --board B [--boards-file F] [--folding F] -o DIR: the split-point study
// (first board's usage and bytes/image for every cut) as Markdown, CSV and SVG charts.
#include <cstdio>

#include "commands.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::cli {

void add_report_command(CLI::App& app) {
  struct Args {
    std::string model;
    partition::HardwareOptions selection;
    std::string out;
  };
  auto args = std::make_shared<Args>();
  app.add_option("model", args->model, "QONNX / FINN-ONNX model")->required()->check(CLI::ExistingFile);
  app.add_option("--board", args->selection.boards, "board the first part must fit (e.g. zedboard)")->required();
  app.add_option("--boards-file", args->selection.boards_file, "extra board catalog (boards.json format)");
  app.add_option("--folding", args->selection.folding_file, "FINN folding JSON (default: FINN's default folding)");
  app.add_option("--input-type", args->selection.input_type,
                 "FINN integer type of float model inputs for the hardware (e.g. UINT8), as FINN builds set it");
  app.add_option("-o,--output", args->out, "output directory for report.md, report.csv, usage.svg, bytes.svg")
      ->required();
  app.callback([args] {
    partition::write_report(args->model, args->selection, args->out);
    std::printf("%s: report.md, report.csv, usage.svg, bytes.svg\n", args->out.c_str());
  });
}

}  // namespace dnnsplit::cli
