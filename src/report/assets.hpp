#pragma once
// The plotting library the report inlines: Vega and Vega-Lite, fetched from npm by
// scripts/fetch-js.sh into third_party/js/ and embedded in the binary at build time (assets.cpp),
// so that a report is one file that opens offline.
#include <string_view>

namespace genoforest::report::assets {

[[nodiscard]] std::string_view vega_js() noexcept;
[[nodiscard]] std::string_view vega_lite_js() noexcept;
[[nodiscard]] std::string_view vega_license() noexcept;
[[nodiscard]] std::string_view vega_lite_license() noexcept;
[[nodiscard]] std::string_view vega_version() noexcept;
[[nodiscard]] std::string_view vega_lite_version() noexcept;

}  // namespace genoforest::report::assets
