// The files of third_party/js/, embedded with the assembler's .incbin (GF_JS_DIR is set by CMake,
// which also makes this file depend on them).
#include "assets.hpp"

#include <string>

#ifndef GF_JS_DIR
#error "GF_JS_DIR must name the folder of vega.min.js and vega-lite.min.js (scripts/fetch-js.sh)"
#endif

#define GF_EMBED(sym, file)                   \
  __asm__(".section .rodata\n"              \
          ".global " #sym "\n"              \
          ".type " #sym ", @object\n"       \
          ".balign 16\n" #sym ":\n"         \
          ".incbin \"" GF_JS_DIR "/" file "\"\n" \
          ".global " #sym "_end\n" #sym "_end:\n" \
          ".byte 0\n"                       \
          ".previous\n")

GF_EMBED(gf_vega_js, "vega.min.js");
GF_EMBED(gf_vega_lite_js, "vega-lite.min.js");
GF_EMBED(gf_vega_license, "vega.LICENSE");
GF_EMBED(gf_vega_lite_license, "vega-lite.LICENSE");
GF_EMBED(gf_vega_version, "vega.version");
GF_EMBED(gf_vega_lite_version, "vega-lite.version");

extern "C" {
extern const char gf_vega_js[], gf_vega_js_end[];
extern const char gf_vega_lite_js[], gf_vega_lite_js_end[];
extern const char gf_vega_license[], gf_vega_license_end[];
extern const char gf_vega_lite_license[], gf_vega_lite_license_end[];
extern const char gf_vega_version[], gf_vega_version_end[];
extern const char gf_vega_lite_version[], gf_vega_lite_version_end[];
}

namespace genoforest::report::assets {

namespace {
std::string_view view(const char* b, const char* e) noexcept {
  std::string_view v(b, static_cast<std::size_t>(e - b));
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}
}  // namespace

std::string_view vega_js() noexcept { return view(gf_vega_js, gf_vega_js_end); }
std::string_view vega_lite_js() noexcept { return view(gf_vega_lite_js, gf_vega_lite_js_end); }
std::string_view vega_license() noexcept { return view(gf_vega_license, gf_vega_license_end); }
std::string_view vega_lite_license() noexcept { return view(gf_vega_lite_license, gf_vega_lite_license_end); }
std::string_view vega_version() noexcept { return view(gf_vega_version, gf_vega_version_end); }
std::string_view vega_lite_version() noexcept { return view(gf_vega_lite_version, gf_vega_lite_version_end); }

}  // namespace genoforest::report::assets
