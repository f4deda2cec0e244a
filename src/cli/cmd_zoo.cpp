// dnnsplit zoo list [--json] | zoo build NAME -o FILE [--seed N]: the literature's networks.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "dnnsplit/file_util.h"
#include "commands.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit::cli {

namespace {

struct ZooOptions {
  bool json = false;
  std::string name;
  std::string output;
  uint64_t seed = 1;
};

void run_list(const ZooOptions& options) {
  const auto entries = zoo_list();
  if (options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : entries) {
      list.push_back({{"name", e.name},
                      {"description", e.description},
                      {"input_shape", e.input_shape},
                      {"input_datatype", e.input_datatype},
                      {"source", e.source}});
    }
    std::printf("%s\n", list.dump(2).c_str());
    return;
  }
  size_t name_width = 4;
  size_t shape_width = 5;
  for (const auto& e : entries) {
    name_width = std::max(name_width, e.name.size());
    shape_width = std::max(shape_width, shape_to_string(e.input_shape).size() + e.input_datatype.size() + 1);
  }
  const int nw = static_cast<int>(name_width);
  const int sw = static_cast<int>(shape_width);
  std::printf("%-*s  %-*s  %s\n", nw, "name", sw, "input", "description");
  for (const auto& e : entries) {
    const std::string input = shape_to_string(e.input_shape) + " " + e.input_datatype;
    std::printf("%-*s  %-*s  %s\n", nw, e.name.c_str(), sw, input.c_str(), e.description.c_str());
  }
}

void run_build(const ZooOptions& options) {
  const std::string bytes = zoo_build(options.name, options.seed);
  write_file_atomic(options.output, bytes, "model file");
  std::printf("wrote %s: %s, seed %llu, %zu bytes\n", options.output.c_str(), options.name.c_str(),
              static_cast<unsigned long long>(options.seed), bytes.size());
}

}  // namespace

void add_zoo_command(CLI::App& app) {
  auto options = std::make_shared<ZooOptions>();
  app.require_subcommand(1);
  app.footer("Models are QONNX as Brevitas exports them for FINN, with synthetic weights drawn from the seed.");

  auto* list = app.add_subcommand("list", "List the models the zoo can build");
  list->add_flag("--json", options->json, "print a JSON array instead of a table");
  list->callback([options] { run_list(*options); });

  auto* build = app.add_subcommand("build", "Build one model and write it as an ONNX file");
  build->add_option("name", options->name, "model name, as listed by `dnnsplit zoo list`")->required();
  build->add_option("-o,--output", options->output, "ONNX file to write (written atomically)")->required();
  build->add_option("--seed", options->seed, "seed of the synthetic weights; the same seed gives the same file")
      ->capture_default_str();
  build->callback([options] { run_build(*options); });
}

}  // namespace dnnsplit::cli
