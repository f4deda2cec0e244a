// dnnsplit plan MODEL --board B[,B...] [--boards-file F] [--strategy S] [--stages K]
//                [--folding F] -o DIR [--json]: splits a model into board-sized stages.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::cli {

namespace {

struct PlanArgs {
  std::string model;
  std::vector<std::string> boards;
  std::string boards_file;
  std::string strategy = "fill";
  int stages = 0;
  std::string folding;
  std::string input_type;
  std::string out;
  bool json = false;
};

void print_summary(const nlohmann::json& plan, const std::string& out) {
  std::printf("%s: %zu stage(s), strategy %s, %lld bytes/image cross boards\n", out.c_str(), plan["stages"].size(),
              plan["strategy"].get<std::string>().c_str(),
              static_cast<long long>(plan["objective"]["total_cut_bytes"].get<int64_t>()));
  std::printf("%-5s %-10s %6s %7s %7s %7s %12s %10s %14s\n", "stage", "board", "nodes", "LUT%", "BRAM%", "DSP%",
              "cycles", "fps", "bytes to next");
  const auto& stages = plan["stages"];
  for (size_t k = 0; k < stages.size(); ++k) {
    const auto& s = stages[k];
    const auto& pct = s["resources"]["percent"];
    const auto& fps = s["timing"]["estimated_fps"];
    const long long next = k + 1 < stages.size() ? plan["cuts"][k]["bytes_per_image"].get<long long>() : 0LL;
    std::printf("%-5zu %-10s %6zu %7.2f %7.2f %7.2f %12lld %10.1f %14lld\n", k, s["board"].get<std::string>().c_str(),
                s["nodes"].size(), pct.value("lut", 0.0), pct.value("bram18", 0.0), pct.value("dsp", 0.0),
                static_cast<long long>(s["timing"]["bottleneck_cycles"].get<int64_t>()),
                fps.is_number() ? fps.get<double>() : 0.0, next);
  }
  for (size_t k = 0; k < stages.size(); ++k) {
    for (const auto& c : stages[k].value("memory_choices", nlohmann::json::array())) {
      std::printf("stage %zu: %s has its weights in %s; %s\n", k, c["layer"].get<std::string>().c_str(),
                  c["weights"].get<std::string>() == "dram" ? "DRAM (mem_mode external)" : c["weights"].get<std::string>().c_str(),
                  c["reason"].get<std::string>().c_str());
    }
    const auto software = stages[k].value("software_nodes", nlohmann::json::array());
    if (!software.empty()) {
      std::string names;
      for (const auto& n : software) names += (names.empty() ? "" : ", ") + n.get<std::string>();
      std::printf("stage %zu: in software (CPU): %s\n", k, names.c_str());
    }
  }
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  app.add_option("model", args->model, "QONNX / FINN-ONNX model")->required()->check(CLI::ExistingFile);
  app.add_option("--board", args->boards,
                 "board name; several, comma-separated, are exactly the boards available (e.g. zedboard,zedboard,ultra96)")
      ->required()
      ->delimiter(',');
  app.add_option("--boards-file", args->boards_file, "extra board catalog (boards.json format)");
  app.add_option("--strategy", args->strategy, "fill | min-transfer | balanced (default fill)");
  app.add_option("--stages", args->stages,
                 "exact number of stages for min-transfer / balanced (default: the fewest that fit; balanced with "
                 "several boards listed: one stage per board)");
  app.add_option("--folding", args->folding,
                 "FINN folding JSON used for every stage (default: FINN's default folding to split, then the "
                 "fastest folding that fits, per stage)");
  app.add_option("--input-type", args->input_type,
                 "FINN integer type of float model inputs for the hardware (e.g. UINT8), as FINN builds set it");
  app.add_option("-o,--output", args->out, "output directory for stage-K.onnx and plan.json")->required();
  app.add_flag("--json", args->json, "print plan.json instead of a summary");
  app.callback([args] {
    partition::PlanOptions options;
    options.selection.boards = args->boards;
    options.selection.boards_file = args->boards_file;
    options.selection.folding_file = args->folding;
    options.selection.input_type = args->input_type;
    options.strategy = partition::parse_strategy(args->strategy);
    options.stages = args->stages;
    const std::string text = partition::plan_model(args->model, options, args->out);
    if (args->json) {
      std::fputs(text.c_str(), stdout);
    } else {
      print_summary(nlohmann::json::parse(text), args->out);
    }
  });
}

}  // namespace dnnsplit::cli
