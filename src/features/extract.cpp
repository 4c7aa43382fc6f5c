#include "genoforest/features/extract.hpp"

#include <algorithm>
#include <unordered_map>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "genoforest/core/error.hpp"

namespace genoforest::features {

namespace {
/// Last position (0-based, exclusive end) covered by any record of `contig`, by binary search over
/// index queries; 0 when the contig has no record.
std::int64_t probe_contig_end(io::VcfReader& reader, const std::string& contig) {
  auto rec = io::make_record();
  auto any_from = [&](std::int64_t x) {
    reader.seek(Region{contig, x, Region::kToContigEnd});
    return reader.next(rec.get());
  };
  if (!any_from(0)) return 0;
  std::int64_t lo = 0, hi = std::int64_t{1} << 40;  // any_from(lo) true, any_from(hi) false
  while (hi - lo > 1) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    (any_from(mid) ? lo : hi) = mid;
  }
  return hi;
}
}  // namespace

std::vector<Region> plan_regions(io::VcfReader& reader, const std::vector<Region>& requested,
                                 std::int64_t region_size) {
  if (region_size < 1) throw UsageError("--region-size must be at least 1 bp");
  const auto contigs = reader.contigs();
  std::unordered_map<std::string, std::size_t> rank;
  for (std::size_t i = 0; i < contigs.size(); ++i) rank.emplace(contigs[i].name, i);

  // A contig with records that the header's text does not declare (htslib took it from the
  // index): refused when the header declares others, as a cut or wrongly merged header would be.
  // A header that declares no contig at all (hand-made files) takes its contigs from the index.
  if (!reader.undeclared_contigs().empty() && reader.declared_contig_count() > 0) {
    const auto& name = reader.undeclared_contigs().front();
    throw InconsistentInputError(
        reader.path().string(),
        "contig '" + name + "' has records but no ##contig line in the header, which declares " +
            std::to_string(reader.declared_contig_count()) + " other contig(s) (" +
            std::to_string(reader.undeclared_contigs().size()) +
            " undeclared in all); add the line with 'bcftools reheader' or drop its records");
  }
  std::vector<Region> wanted;
  if (requested.empty()) {
    for (const auto& name : reader.indexed_contigs()) {
      if (!rank.count(name)) {
        throw InconsistentInputError(reader.path().string(), "the index lists contig '" + name +
                                                                 "' that the header does not declare");
      }
      wanted.push_back(Region{name, 0, Region::kToContigEnd});
    }
  } else {
    for (const auto& r : requested) {
      if (!rank.count(r.contig)) {
        std::string known;
        for (std::size_t i = 0; i < contigs.size() && i < 5; ++i) known += (i ? ", " : "") + contigs[i].name;
        if (contigs.size() > 5) known += ", ...";
        throw InconsistentInputError("region " + r.to_string(), "contig '" + r.contig + "' is not in " +
                                                                    reader.path().string() + " (its contigs: " +
                                                                    (known.empty() ? "none" : known) + ")");
      }
      wanted.push_back(r);
    }
  }
  wanted = normalise_regions(std::move(wanted), [&](const std::string& c) { return rank.at(c); });

  std::vector<Region> out;
  for (const auto& r : wanted) {
    std::int64_t length = contigs[rank.at(r.contig)].length;
    if (length <= 0) length = probe_contig_end(reader, r.contig);
    const std::int64_t end = std::min(r.end, length);
    for (std::int64_t b = r.beg; b < end; b += region_size) {
      Region piece{r.contig, b, std::min(end, b + region_size)};
      // A region the index shows empty would be a task with nothing to do (sparse panels over a
      // whole genome leave most of them empty).
      if (reader.may_have_records(piece)) out.push_back(std::move(piece));
    }
  }
  return out;
}

RegionColumns extract_region(io::VcfReader& reader, const Region& region, const FeatureFilters& filters) {
  RegionColumns out;
  SiteExtractor ex(reader.header(), filters);
  auto rec = io::make_record();
  io::Genotypes gt;
  reader.seek(region);
  std::int64_t last_pos = -1;
  const int rid = bcf_hdr_name2id(reader.header(), region.contig.c_str());
  while (reader.next(rec.get(), gt)) {
    if (rec->rid != rid) throw InputError(reader.where(rec.get()), "record outside the queried contig (corrupt index?)");
    if (rec->pos < last_pos) {
      throw InputError(reader.where(rec.get()), "records are not sorted by position (sort with 'bcftools sort')");
    }
    last_pos = rec->pos;
    if (rec->pos < region.beg) continue;  // owned by the previous region
    if (rec->pos >= region.end) break;
    ex.extract(rec.get(), gt, reader.path().string(), out.rows, out.dosages);
  }
  out.counts = ex.counts();
  return out;
}

// 16 x 16 tiles through byte interleaves where they fit.
void columns_to_rows(const std::int8_t* src, std::int64_t n, std::int64_t cols, std::int8_t* dst, std::int64_t stride) {
  std::int64_t c0 = 0;
#ifdef __SSE2__
  for (; c0 + 16 <= cols; c0 += 16) {
    std::int64_t r0 = 0;
    for (; r0 + 16 <= n; r0 += 16) {
      __m128i x[16];
      for (int k = 0; k < 16; ++k) x[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + (c0 + k) * n + r0));
      for (int round = 0; round < 4; ++round) {  // four byte interleaves: x[r] ends as row r
        __m128i y[16];
        for (int i = 0; i < 8; ++i) {
          y[2 * i] = _mm_unpacklo_epi8(x[i], x[i + 8]);
          y[2 * i + 1] = _mm_unpackhi_epi8(x[i], x[i + 8]);
        }
        for (int k = 0; k < 16; ++k) x[k] = y[k];
      }
      for (int k = 0; k < 16; ++k) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (r0 + k) * stride + c0), x[k]);
    }
    for (std::int64_t r = r0; r < n; ++r)
      for (std::int64_t c = c0; c < c0 + 16; ++c) dst[r * stride + c] = src[c * n + r];
  }
#endif
  for (; c0 < cols; ++c0)
    for (std::int64_t r = 0; r < n; ++r) dst[r * stride + c0] = src[c0 * n + r];
}


}  // namespace genoforest::features
