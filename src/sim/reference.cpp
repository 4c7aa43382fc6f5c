#include "genoforest/sim/reference.hpp"

#include <htslib/bgzf.h>
#include <htslib/faidx.h>
#include <htslib/kstring.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/rng.hpp"

namespace genoforest::sim {

namespace {

enum Stream : std::uint64_t { kBackground = 101, kRepeats = 102 };

constexpr char kBases[] = "ACGT";

char random_base(Rng& rng) {
  // GC content 41%, as in the human genome.
  const double u = rng.uniform();
  return u < 0.295 ? 'A' : u < 0.5 ? 'C' : u < 0.705 ? 'G' : 'T';
}


}  // namespace

char complement(char b) noexcept {
  switch (b) {
    case 'A': return 'T';
    case 'C': return 'G';
    case 'G': return 'C';
    case 'T': return 'A';
    default: return 'N';
  }
}

std::int64_t Reference::total_length() const noexcept {
  std::int64_t n = 0;
  for (const auto& s : seqs) n += static_cast<std::int64_t>(s.size());
  return n;
}

Reference random_reference(const std::vector<std::int64_t>& lengths, std::uint64_t seed) {
  Reference ref;
  // Repeat families shared by all contigs.
  constexpr int kFamilies = 40;
  std::vector<std::string> family(kFamilies);
  {
    Rng rng(task_seed(seed, kRepeats, 0));
    for (auto& f : family) {
      f.resize(300 + rng.below(2701));
      for (auto& b : f) b = random_base(rng);
    }
  }
  for (std::size_t c = 0; c < lengths.size(); ++c) {
    const auto len = static_cast<std::size_t>(std::max<std::int64_t>(lengths[c], 1));
    ref.names.push_back("chr" + std::to_string(c + 1));
    std::string s(len, 'A');
    Rng rng(task_seed(seed, kBackground, c));
    for (auto& b : s) b = random_base(rng);
    // Interspersed repeats: about 10% of the contig.
    const std::size_t copies = len / 16'500;
    for (std::size_t k = 0; k < copies; ++k) {
      const std::string& f = family[rng.below(kFamilies)];
      if (f.size() >= len) continue;
      const std::size_t at = rng.below(len - f.size());
      const double divergence = 0.02 + 0.13 * rng.uniform();
      const bool reverse = rng.chance(0.5);
      for (std::size_t i = 0; i < f.size(); ++i) {
        char b = reverse ? complement(f[f.size() - 1 - i]) : f[i];
        if (rng.chance(divergence)) b = kBases[rng.below(4)];
        s[at + i] = b;
      }
    }
    // Short tandem repeats: about 2% of the contig.
    const std::size_t strs = len / 1'900;
    for (std::size_t k = 0; k < strs; ++k) {
      const std::size_t unit_len = 1 + rng.below(6);
      const std::size_t span = 15 + rng.below(46);
      if (span >= len) continue;
      std::string unit(unit_len, 'A');
      for (auto& b : unit) b = random_base(rng);
      const std::size_t at = rng.below(len - span);
      for (std::size_t i = 0; i < span; ++i) s[at + i] = unit[i % unit_len];
    }
    ref.seqs.push_back(std::move(s));
  }
  return ref;
}

Reference load_reference(const std::filesystem::path& fasta) {
  struct Closer {
    void operator()(BGZF* f) const noexcept { if (f) bgzf_close(f); }
  };
  std::unique_ptr<BGZF, Closer> fp(bgzf_open(fasta.c_str(), "r"));
  if (!fp) throw InputError(fasta.string(), "cannot open the reference FASTA: " + errno_text());
  Reference ref;
  kstring_t line = KS_INITIALIZE;
  std::int64_t line_no = 0;
  int r;
  while ((r = bgzf_getline(fp.get(), '\n', &line)) >= 0) {
    ++line_no;
    std::string_view v(line.s ? line.s : "", line.l);
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    if (v.empty()) continue;
    if (v.front() == '>') {
      const auto end = v.find_first_of(" \t", 1);
      std::string name(v.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
      if (name.empty()) {
        ks_free(&line);
        throw InputError(fasta.string() + " line " + std::to_string(line_no), "a sequence header without a name");
      }
      ref.names.push_back(std::move(name));
      ref.seqs.emplace_back();
      continue;
    }
    if (ref.names.empty()) {
      ks_free(&line);
      throw InputError(fasta.string() + " line " + std::to_string(line_no), "sequence before the first '>' header; is this a FASTA file?");
    }
    auto& s = ref.seqs.back();
    for (char c : v) s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  ks_free(&line);
  if (r < -1) throw InputError(fasta.string(), "truncated or corrupt file (line " + std::to_string(line_no + 1) + ")");
  if (ref.names.empty()) throw InputError(fasta.string(), "no sequences in the reference FASTA");
  return ref;
}

void write_reference(const Reference& ref, const std::filesystem::path& path, const std::filesystem::path& fai_path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw IoError("cannot write " + path.string() + ": " + errno_text());
  bool ok = true;
  for (std::size_t c = 0; c < ref.names.size() && ok; ++c) {
    ok = std::fprintf(f, ">%s\n", ref.names[c].c_str()) > 0;
    const std::string& s = ref.seqs[c];
    for (std::size_t i = 0; i < s.size() && ok; i += 60) {
      const std::size_t n = std::min<std::size_t>(60, s.size() - i);
      ok = std::fwrite(s.data() + i, 1, n, f) == n && std::fputc('\n', f) != EOF;
    }
  }
  if (std::fclose(f) != 0 || !ok) throw IoError(failed_write(path));
  if (fai_build3(path.c_str(), fai_path.c_str(), nullptr) != 0) throw IoError("cannot write the index " + fai_path.string());
}

}  // namespace genoforest::sim
