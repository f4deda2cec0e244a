// Loading a model for estimation: FINN hardware-level files are read as they are, anything else
// is imported and lowered.
#include "dnnsplit/cost.h"
#include "dnnsplit/model_io.h"

namespace dnnsplit::cost {

HwGraph load_hw_graph(const std::string& path, const LowerOptions& options) {
  if (is_finn_hw_model(path)) return read_finn_hw_model(path);
  const ir::Graph graph = import_model(path);
  HwGraph hw = lower_to_hw(graph, options);
  if (hw.source.empty()) hw.source = path;
  return hw;
}

}  // namespace dnnsplit::cost
