// The model loader (`predict -m`): any file must be refused with a line, never crash.
#include "fuzz_common.hpp"
#include "genoforest/ml/model.hpp"

using namespace genoforest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz::as_file(data, size, ".gfm");
  fuzz::expect_clean([&] { (void)ml::load_model(path); });
  return 0;
}
