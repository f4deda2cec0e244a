// dnnsplit verify MODEL DIR [--samples N] [--seed S] [--input X.npy ...]: the chain of stage files
// in DIR gives outputs bit-identical to the whole model. Exit 0 only when every output matches,
// 1 when some differ, 2 for bad input.
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "dnnsplit/error.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::cli {

void add_verify_command(CLI::App& app) {
  struct Args {
    std::string model;
    std::string dir;
    partition::VerifyOptions options;
  };
  auto args = std::make_shared<Args>();
  app.add_option("model", args->model, "the model the plan was made from")->required()->check(CLI::ExistingFile);
  app.add_option("dir", args->dir, "plan directory written by 'dnnsplit plan'")->required();
  app.add_option("--samples", args->options.samples, "seeded random inputs (default 4)");
  app.add_option("--seed", args->options.seed, "seed of the random inputs (default 1)");
  app.add_option("--input", args->options.input_files, "extra input .npy file(s), batch in dimension 0");
  app.callback([args] {
    const partition::VerifyResult result = partition::verify_plan(args->model, args->dir, args->options);
    for (const auto& line : result.mismatches) std::printf("MISMATCH %s\n", line.c_str());
    if (result.outputs_compared == 0) throw Error("verify: no output was compared (--samples 0 and no --input)");
    if (!result.ok()) {
      // A split that changes the results is a finding, not bad input: exit 1 (2 is for errors).
      std::fprintf(stderr, "dnnsplit: verify: %zu of %d outputs differ between the whole model and the stages in %s\n",
                   result.mismatches.size(), result.outputs_compared, args->dir.c_str());
      std::fflush(stdout);
      std::exit(1);
    }
    std::printf("verify: %d input(s), %d output(s) bit-identical between %s and the stages in %s\n", result.inputs_run,
                result.outputs_compared, args->model.c_str(), args->dir.c_str());
  });
}

}  // namespace dnnsplit::cli
