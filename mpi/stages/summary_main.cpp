#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include "cli.hpp"
#include "genoforest/features/store.hpp"
#include "stages/stages.hpp"

namespace genoforest::mpi {

namespace h5 = io::h5;

namespace {
std::string summarise(const std::string& path) {
  features::StoreReader store(path);
  const hid_t f = store.file();
  std::ostringstream s;
  char buf[256];
  s << "feature store   " << path << " (schema " << h5::read_attr_int(f, "schema_version") << ", genoforest "
    << h5::read_attr_string(h5::open_group(f, "provenance"), "genoforest_version") << ")\n";
  const auto types = h5::read_vector<std::int8_t>(f, "variants/type");
  std::int64_t by_type[3] = {0, 0, 0};
  for (auto t : types) ++by_type[std::clamp<int>(t, 0, 2)];
  s << "samples         " << store.n_samples() << "\n";
  std::snprintf(buf, sizeof buf, "variants        %lld (SNV %lld, indel %lld, other %lld)\n",
                static_cast<long long>(store.n_variants()), static_cast<long long>(by_type[0]),
                static_cast<long long>(by_type[1]), static_cast<long long>(by_type[2]));
  s << buf;
  {
    auto prov = h5::open_group(f, "provenance");
    s << "filters         " << h5::read_attr_string(prov, "filters") << "\n";
    s << "regions         " << h5::read_attr_string(prov, "regions") << "\n";
  }
  const auto windows = h5::dims(f, "windows/start");
  s << "windows         " << windows.at(0) << " of " << h5::read_attr_int(h5::open_group(f, "windows"), "window_size")
    << " bp\n";

  auto labels = h5::open_group(f, "labels");
  const std::string type = h5::read_attr_string(labels, "type");
  std::vector<std::string> pops;
  if (h5::exists(f, "samples/population")) pops = h5::read_strings(f, "samples/population");
  if (type == "class") {
    const auto classes = h5::read_strings(labels, "classes");
    const auto code = h5::read_vector<std::int32_t>(labels, "code");
    std::vector<std::int64_t> count(classes.size(), 0);
    std::int64_t missing = 0;
    for (auto c : code) (c < 0 ? missing : count[static_cast<std::size_t>(c)])++;
    s << "labels          class:";
    for (std::size_t k = 0; k < classes.size(); ++k) s << " " << classes[k] << "=" << count[k];
    s << " missing=" << missing << "\n";
  } else if (type == "quantitative") {
    const auto v = h5::read_vector<double>(labels, "value");
    double sum = 0, ss = 0;
    std::int64_t m = 0;
    for (double x : v)
      if (!std::isnan(x)) {
        sum += x;
        ss += x * x;
        ++m;
      }
    const double mean = m ? sum / static_cast<double>(m) : NAN;
    std::snprintf(buf, sizeof buf, "labels          quantitative: n=%lld mean=%.4g sd=%.4g missing=%lld\n",
                  static_cast<long long>(m), mean, m ? std::sqrt(ss / static_cast<double>(m) - mean * mean) : NAN,
                  static_cast<long long>(static_cast<std::int64_t>(v.size()) - m));
    s << buf;
  } else {
    s << "labels          none\n";
  }

  const auto het = h5::read_vector<std::int64_t>(f, "sample_stats/n_het");
  const auto hom = h5::read_vector<std::int64_t>(f, "sample_stats/n_hom_alt");
  const auto called = h5::read_vector<std::int64_t>(f, "sample_stats/n_called");
  const auto missing = h5::read_vector<std::int64_t>(f, "sample_stats/n_missing");
  const auto titv = h5::read_vector<double>(f, "sample_stats/titv");
  struct Acc {
    std::int64_t n = 0;
    double het = 0, hom = 0, miss = 0, titv = 0;
    std::int64_t titv_n = 0;
  };
  std::map<std::string, Acc> by_pop;
  for (std::size_t i = 0; i < het.size(); ++i) {
    const std::string p = pops.empty() || pops[i].empty() ? "(all)" : pops[i];
    auto& a = by_pop[p];
    ++a.n;
    const double tot = static_cast<double>(called[i] + missing[i]);
    if (called[i]) {
      a.het += static_cast<double>(het[i]) / static_cast<double>(called[i]);
      a.hom += static_cast<double>(hom[i]) / static_cast<double>(called[i]);
    }
    if (tot > 0) a.miss += static_cast<double>(missing[i]) / tot;
    if (!std::isnan(titv[i])) {
      a.titv += titv[i];
      ++a.titv_n;
    }
  }
  s << "\npopulation      samples  het rate  hom-alt rate  missing  Ti/Tv\n";
  for (const auto& [p, a] : by_pop) {
    const double n = static_cast<double>(a.n);
    std::snprintf(buf, sizeof buf, "%-14s  %7lld  %8.4f  %12.4f  %7.4f  %5.2f\n", p.c_str(), static_cast<long long>(a.n),
                  a.het / n, a.hom / n, a.miss / n, a.titv_n ? a.titv / static_cast<double>(a.titv_n) : NAN);
    s << buf;
  }
  return s.str();
}
}  // namespace

bool summary_main(const Comm& comm, const StageCall& call) {
  std::string input;
  StageSpec spec;
  spec.name = "summary";
  spec.purpose = "Prints what a feature store holds: dimensions, variant classes, labels, and per-population\n"
                 "sample statistics (het and hom-alt rates, missingness, Ti/Tv). Runs on rank 0.";
  spec.usage = "<features.h5>";
  po::options_description io("Input");
  io.add_options()("input", po::value(&input)->value_name("FILE"), "feature store written by 'genoforest features'");
  spec.groups.push_back(io);
  spec.positional.add("input", 1);
  po::variables_map vm;
  if (!start_stage(spec, call, vm, comm)) return false;
  if (input.empty()) throw UsageError("no input: give a feature store (.h5)");
  comm.on_root([&] { std::cout << summarise(input) << std::flush; });
  return true;
}

}  // namespace genoforest::mpi
