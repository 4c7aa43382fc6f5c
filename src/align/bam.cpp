#include "genoforest/align/bam.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <queue>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <htslib/hts.h>

#include "genoforest/align/bgzf_writer.hpp"
#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"

namespace genoforest::align {

namespace fs = std::filesystem;

void AlignCounts::add(const AlignCounts& o) {
  records += o.records;
  primary += o.primary;
  mapped += o.mapped;
  properly_paired += o.properly_paired;
  secondary += o.secondary;
  supplementary += o.supplementary;
  duplicates += o.duplicates;
  for (const auto& [size, n] : o.insert_sizes) insert_sizes[size] += n;
}

std::string AlignCounts::to_json(int indent) const {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  auto frac = [&](std::int64_t a) { return primary > 0 ? static_cast<double>(a) / static_cast<double>(primary) : 0.0; };
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\n%s  \"records\": %lld,\n%s  \"primary\": %lld,\n%s  \"mapped\": %lld,\n%s  \"mapped_fraction\": %.6f,\n"
                "%s  \"properly_paired\": %lld,\n%s  \"properly_paired_fraction\": %.6f,\n%s  \"secondary\": %lld,\n"
                "%s  \"supplementary\": %lld,\n%s  \"duplicates\": %lld,\n%s  \"duplicate_fraction\": %.6f\n%s}",
                pad.c_str(), static_cast<long long>(records), pad.c_str(), static_cast<long long>(primary), pad.c_str(),
                static_cast<long long>(mapped), pad.c_str(), frac(mapped), pad.c_str(), static_cast<long long>(properly_paired),
                pad.c_str(), frac(properly_paired), pad.c_str(), static_cast<long long>(secondary), pad.c_str(),
                static_cast<long long>(supplementary), pad.c_str(), static_cast<long long>(duplicates), pad.c_str(),
                frac(duplicates), pad.c_str());
  // Median (the lower middle value, as Picard's) and mean of the insert sizes.
  std::int64_t n = 0;
  double sum = 0;
  for (const auto& [size, k] : insert_sizes) {
    n += k;
    sum += static_cast<double>(size) * static_cast<double>(k);
  }
  std::string median = "null", mean = "null";
  if (n > 0) {
    std::int64_t seen = 0;
    for (const auto& [size, k] : insert_sizes) {
      seen += k;
      if (2 * seen >= n) {
        median = std::to_string(size);
        break;
      }
    }
    char m[32];
    std::snprintf(m, sizeof m, "%.2f", sum / static_cast<double>(n));
    mean = m;
  }
  std::string out(buf);
  out.resize(out.size() - pad.size() - 2);  // reopen before the closing "\n<pad>}"
  return out + ",\n" + pad + "  \"insert_size_median\": " + median + ",\n" + pad + "  \"insert_size_mean\": " + mean + "\n" + pad + "}";
}

SamHdrPtr parse_header(const std::string& text) {
  SamHdrPtr h(sam_hdr_parse(text.size(), text.c_str()));
  if (!h) throw InternalError("htslib rejected the SAM header");
  return h;
}

namespace {

/// Sort key: reference (unmapped last), position, strand, template, line.
using Key = std::tuple<std::uint32_t, std::int64_t, int, std::uint32_t, std::uint32_t>;

/// What a chunk's file holds before each record's data.
struct RecordHead {
  std::uint32_t templ = 0;
  std::uint32_t line = 0;
  std::uint32_t l_data = 0;
  std::uint32_t unused = 0;
  bam1_core_t core{};
};
static_assert(std::is_trivially_copyable_v<RecordHead>);

Key key_of(const RecordHead& h) {
  return {static_cast<std::uint32_t>(h.core.tid), h.core.pos, (h.core.flag & BAM_FREVERSE) ? 1 : 0, h.templ, h.line};
}

/// Unclipped 5' end of a mapped read.
std::int64_t unclipped_5p(const bam1_t* b) {
  const uint32_t* cig = bam_get_cigar(b);
  const uint32_t n = b->core.n_cigar;
  auto clip = [](uint32_t c) {
    const int op = bam_cigar_op(c);
    return op == BAM_CSOFT_CLIP || op == BAM_CHARD_CLIP ? static_cast<std::int64_t>(bam_cigar_oplen(c)) : 0;
  };
  if (!bam_is_rev(b)) {
    std::int64_t lead = 0;
    for (uint32_t i = 0; i < n && clip(cig[i]) > 0; ++i) lead += clip(cig[i]);
    return b->core.pos - lead;
  }
  std::int64_t tail = 0;
  for (uint32_t i = n; i-- > 0 && clip(cig[i]) > 0;) tail += clip(cig[i]);
  return bam_endpos(b) - 1 + tail;
}

std::int32_t quality_score(const bam1_t* b) {
  const uint8_t* q = bam_get_qual(b);
  std::int32_t s = 0;
  for (int i = 0; i < b->core.l_qseq; ++i) s += q[i] >= 15 ? q[i] : 0;
  return s;
}

bool mapped_primary(const bam1_t* b) {
  return !(b->core.flag & (BAM_FUNMAP | BAM_FSECONDARY | BAM_FSUPPLEMENTARY));
}

struct HtsCloser {
  void operator()(samFile* f) const noexcept { if (f) sam_close(f); }
};
using SamFilePtr = std::unique_ptr<samFile, HtsCloser>;

}  // namespace

std::vector<std::uint8_t> decide_duplicates(std::vector<DupSignature> sigs, std::size_t n_templates) {
  std::vector<std::uint8_t> dup(n_templates, 0);
  auto end_key = [](std::int32_t tid, std::int32_t pos, std::uint8_t rev) { return std::tuple{tid, pos, rev}; };
  auto pair_key = [](const DupSignature& s) { return std::tuple{s.tid1, s.pos1, s.rev1, s.tid2, s.pos2, s.rev2}; };
  // Pairs first, fragments after, in place: the keys of a whole sample can be large.
  const auto split_at = std::partition(sigs.begin(), sigs.end(), [](const DupSignature& s) { return !s.fragment; });
  std::span<DupSignature> pairs(sigs.begin(), split_at), frags(split_at, sigs.end());
  auto better = [](const DupSignature& a, const DupSignature& b) {
    return a.score != b.score ? a.score > b.score : a.templ < b.templ;
  };
  std::sort(pairs.begin(), pairs.end(), [&](const DupSignature& a, const DupSignature& b) {
    return pair_key(a) != pair_key(b) ? pair_key(a) < pair_key(b) : better(a, b);
  });
  for (std::size_t i = 1; i < pairs.size(); ++i) {
    if (pair_key(pairs[i]) == pair_key(pairs[i - 1])) dup.at(pairs[i].templ) = 3;
  }
  std::vector<std::tuple<std::int32_t, std::int32_t, std::uint8_t>> pair_ends;
  for (const auto& s : pairs) {
    pair_ends.push_back(end_key(s.tid1, s.pos1, s.rev1));
    pair_ends.push_back(end_key(s.tid2, s.pos2, s.rev2));
  }
  std::sort(pair_ends.begin(), pair_ends.end());
  std::sort(frags.begin(), frags.end(), [&](const DupSignature& a, const DupSignature& b) {
    const auto ka = end_key(a.tid1, a.pos1, a.rev1), kb = end_key(b.tid1, b.pos1, b.rev1);
    return ka != kb ? ka < kb : better(a, b);
  });
  for (std::size_t i = 0; i < frags.size(); ++i) {
    const auto k = end_key(frags[i].tid1, frags[i].pos1, frags[i].rev1);
    const bool shadowed = std::binary_search(pair_ends.begin(), pair_ends.end(), k) ||
                          (i > 0 && end_key(frags[i - 1].tid1, frags[i - 1].pos1, frags[i - 1].rev1) == k);
    if (shadowed) dup.at(frags[i].templ) |= static_cast<std::uint8_t>(1u << frags[i].mate);
  }
  return dup;
}

ChunkBuilder::ChunkBuilder(const sam_hdr_t* hdr) : hdr_(hdr), b_(bam_init1()) {
  if (!b_) throw InternalError("out of memory");
}

ChunkBuilder::~ChunkBuilder() { bam_destroy1(b_); }

void ChunkBuilder::add(std::uint32_t templ, char* sam1, char* sam2) {
  struct End {
    std::int32_t tid = -1;
    std::int64_t pos = 0;
    int rev = 0;
    std::int32_t score = 0;
    bool set = false;
  } primary[2];
  std::uint32_t line = 0;
  for (int mate = 0; mate < (sam2 ? 2 : 1); ++mate) {
    char* p = mate == 0 ? sam1 : sam2;
    while (p && *p) {
      char* nl = std::strchr(p, '\n');
      const std::size_t len = nl ? static_cast<std::size_t>(nl - p) : std::strlen(p);
      char* next = nl ? nl + 1 : p + len;
      p[len] = '\0';
      kstring_t text = {len, len + 1, p};
      if (sam_parse1(&text, const_cast<sam_hdr_t*>(hdr_), b_) < 0) {
        throw InternalError("cannot parse bwa's SAM output for template " + std::to_string(templ) + " (read " + std::string(p) + ")");
      }
      RecordHead h;
      h.templ = templ;
      h.line = line++;
      h.l_data = static_cast<std::uint32_t>(b_->l_data);
      h.core = b_->core;
      offsets_.push_back(records_.size());
      records_.append(reinterpret_cast<const char*>(&h), sizeof h);
      records_.append(reinterpret_cast<const char*>(b_->data), static_cast<std::size_t>(b_->l_data));
      if (mapped_primary(b_)) primary[mate] = {b_->core.tid, unclipped_5p(b_), bam_is_rev(b_) ? 1 : 0, quality_score(b_), true};
      p = next;
    }
  }
  DupSignature s;
  s.templ = templ;
  if (primary[0].set && primary[1].set) {
    std::tuple e1{primary[0].tid, primary[0].pos, primary[0].rev};
    std::tuple e2{primary[1].tid, primary[1].pos, primary[1].rev};
    if (e2 < e1) std::swap(e1, e2);
    s.tid1 = std::get<0>(e1);
    s.pos1 = static_cast<std::int32_t>(std::get<1>(e1));
    s.rev1 = static_cast<std::uint8_t>(std::get<2>(e1));
    s.tid2 = std::get<0>(e2);
    s.pos2 = static_cast<std::int32_t>(std::get<1>(e2));
    s.rev2 = static_cast<std::uint8_t>(std::get<2>(e2));
    s.score = primary[0].score + primary[1].score;
    sigs_.push_back(s);
  } else {
    for (int mate = 0; mate < 2; ++mate) {
      if (!primary[mate].set) continue;
      s.fragment = 1;
      s.mate = static_cast<std::uint8_t>(mate);
      s.tid1 = primary[mate].tid;
      s.pos1 = static_cast<std::int32_t>(primary[mate].pos);
      s.rev1 = static_cast<std::uint8_t>(primary[mate].rev);
      s.score = primary[mate].score;
      sigs_.push_back(s);
    }
  }
}

BinKey bin_of(const bam1_core_t& c, std::uint32_t templ) {
  if (c.tid >= 0) {
    const auto pos = static_cast<std::uint64_t>(std::max<std::int64_t>(c.pos, 0));
    return static_cast<BinKey>(static_cast<std::uint32_t>(c.tid)) << 32 | pos >> kBinShift;
  }
  // Unplaced: sorted by strand, then template (see Key); the position is always -1.
  return BinKey{0xffffffffu} << 32 | static_cast<BinKey>((c.flag & BAM_FREVERSE) ? 1 : 0) << 31 | templ >> kBinShift;
}

std::vector<ChunkBin> ChunkBuilder::write(const fs::path& path) {
  std::vector<std::pair<Key, std::size_t>> order;
  order.reserve(offsets_.size());
  RecordHead h;
  for (const std::size_t at : offsets_) {
    std::memcpy(&h, records_.data() + at, sizeof h);
    order.emplace_back(key_of(h), at);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw IoError("cannot write " + path.string() + ": " + errno_text());
  std::vector<char> buffer(std::size_t{1} << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  std::vector<ChunkBin> bins;
  std::uint64_t offset = 0;
  bool ok = true;
  for (const auto& [k, at] : order) {
    std::memcpy(&h, records_.data() + at, sizeof h);
    const BinKey bin = bin_of(h.core, h.templ);
    if (bins.empty() || bins.back().bin != bin) bins.push_back({bin, offset, 0});
    ++bins.back().records;
    const std::size_t size = sizeof h + h.l_data;
    ok = ok && std::fwrite(records_.data() + at, 1, size, f) == size;
    offset += size;
  }
  if (std::fclose(f) != 0 || !ok) throw IoError(failed_write(path));
  return bins;
}

namespace {

/// What hts_idx_push needs of a record, with its end offset relative to its piece.
struct IndexEvent {
  std::int64_t beg = 0, end = 0;
  std::uint64_t voffset = 0;
  std::int32_t tid = 0;
  std::int32_t mapped = 0;
};

/// The 28-byte empty block that ends every BGZF file.
constexpr unsigned char kBgzfEof[28] = {0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 0x06, 0, 0x42, 0x43,
                                        0x02, 0,    0x1b, 0,    0x03, 0, 0, 0, 0, 0, 0,    0, 0, 0};

/// Appends bytes [0, n) of `from` to the file open as `to` (at its end): in the kernel where it
/// can (copy_file_range), else through a buffer.
void append_bytes(int to, const fs::path& to_path, const fs::path& from, std::uint64_t n) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw InputError(from.string(), "cannot open the temporary piece: " + errno_text());
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{in};
  bool kernel = true;
  std::vector<char> buf;
  while (n > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 30));
    if (kernel) {
      const ssize_t got = ::copy_file_range(in, nullptr, to, nullptr, want, 0);
      if (got > 0) {
        n -= static_cast<std::uint64_t>(got);
        continue;
      }
      if (got == 0) throw InputError(from.string(), "the temporary piece is shorter than written");
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
        throw IoError("cannot write " + to_path.string() + ": " + errno_text());
      }
      kernel = false;  // another file system, or an old kernel: copy through a buffer
      buf.resize(1 << 20);
    }
    const ssize_t got = ::read(in, buf.data(), std::min(want, buf.size()));
    if (got <= 0) throw InputError(from.string(), "the temporary piece is shorter than written");
    for (ssize_t done = 0; done < got;) {
      const ssize_t w = ::write(to, buf.data() + done, static_cast<std::size_t>(got - done));
      if (w < 0) throw IoError("cannot write " + to_path.string() + ": " + errno_text());
      done += w;
    }
    n -= static_cast<std::uint64_t>(got);
  }
}

/// Writes all of `data` to `fd`.
void write_all(int fd, const fs::path& path, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) throw IoError("cannot write " + path.string() + ": " + errno_text());
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

/// Bytes of a record in BAM's encoding, its length field included.
std::size_t encoded_size(const bam1_t* b) {
  return 4 + 32 + static_cast<std::size_t>(b->l_data) - b->core.l_extranul + (b->core.n_cigar > 0xffff ? 16 : 0);
}

}  // namespace

void write_bam_record(BgzfWriter& out, const bam1_t* b) {
  const bam1_core_t& c = b->core;
  const std::uint32_t l_name = static_cast<std::uint32_t>(c.l_qname) - c.l_extranul;
  if (l_name > 255) {
    throw InputError(bam_get_qname(b), "the read name is longer than the 254 characters a BAM record can hold");
  }
  if (c.pos > INT32_MAX || c.mpos > INT32_MAX || c.isize < INT32_MIN || c.isize > INT32_MAX) {
    throw InputError(bam_get_qname(b), "a position beyond 2^31 - 1 (a contig longer than 2 Gbp), which BAM cannot hold");
  }
  const bool long_cigar = c.n_cigar > 0xffff;
  std::uint32_t x[9];
  x[0] = static_cast<std::uint32_t>(b->l_data) - c.l_extranul + 32 + (long_cigar ? 16 : 0);  // block_size
  x[1] = static_cast<std::uint32_t>(c.tid);
  x[2] = static_cast<std::uint32_t>(c.pos);
  x[3] = static_cast<std::uint32_t>(c.bin) << 16 | static_cast<std::uint32_t>(c.qual) << 8 | l_name;
  x[4] = static_cast<std::uint32_t>(c.flag) << 16 | (long_cigar ? 2 : c.n_cigar);
  x[5] = static_cast<std::uint32_t>(c.l_qseq);
  x[6] = static_cast<std::uint32_t>(c.mtid);
  x[7] = static_cast<std::uint32_t>(c.mpos);
  x[8] = static_cast<std::uint32_t>(c.isize);
  static_assert(std::endian::native == std::endian::little, "BAM is little-endian; this writer copies native integers");
  out.flush_try(encoded_size(b));
  out.write(x, sizeof x);
  out.write(b->data, l_name);  // the name without its extra NULs
  const std::size_t rest = static_cast<std::size_t>(b->l_data) - c.l_qname;
  if (!long_cigar) {
    out.write(b->data + c.l_qname, rest);
    return;
  }
  // As htslib: a placeholder CIGAR <l_qseq>S<reference length>N, the real one in CG:B,I at the end.
  const auto ref_len = static_cast<std::uint64_t>(bam_cigar2rlen(static_cast<int>(c.n_cigar), bam_get_cigar(b)));
  if (ref_len >= (std::uint64_t{1} << 28)) {
    throw InputError(bam_get_qname(b), "an alignment spanning 2^28 bases or more, which a BAM record cannot hold");
  }
  const std::uint32_t fake[2] = {static_cast<std::uint32_t>(c.l_qseq) << 4 | BAM_CSOFT_CLIP,
                                 static_cast<std::uint32_t>(ref_len) << 4 | BAM_CREF_SKIP};
  const std::size_t cigar_bytes = std::size_t{c.n_cigar} * 4;
  out.write(fake, sizeof fake);
  out.write(b->data + c.l_qname + cigar_bytes, rest - cigar_bytes);
  const std::uint32_t n = c.n_cigar;
  out.write("CGBI", 4);
  out.write(&n, sizeof n);
  out.write(b->data + c.l_qname, cigar_bytes);
}

void write_bam_header(BgzfWriter& out, const sam_hdr_t* hdr) {
  sam_hdr_t* h = const_cast<sam_hdr_t*>(hdr);  // htslib's getters take non-const headers
  const char* text = sam_hdr_str(h);
  if (!text) throw InternalError("htslib cannot render the SAM header");
  const auto l_text = static_cast<std::uint32_t>(sam_hdr_length(h));
  out.write("BAM\1", 4);
  out.write(&l_text, 4);
  out.write(text, l_text);
  const auto n_ref = static_cast<std::int32_t>(sam_hdr_nref(h));
  out.write(&n_ref, 4);
  for (std::int32_t t = 0; t < n_ref; ++t) {
    const char* name = sam_hdr_tid2name(h, t);
    const auto l_name = static_cast<std::uint32_t>(std::strlen(name) + 1);
    const auto l_ref = static_cast<std::uint32_t>(sam_hdr_tid2len(h, t));
    out.write(&l_name, 4);
    out.write(name, l_name);
    out.write(&l_ref, 4);
  }
}

AlignCounts write_piece(const std::vector<PieceInput>& inputs, BinKey bin_begin, BinKey bin_end,
                        const std::vector<std::uint8_t>& dups, int level, const fs::path& out,
                        const fs::path& index_events) {
  struct Input {
    std::FILE* f = nullptr;
    std::vector<char> buffer;      ///< the stream's
    std::vector<std::uint8_t> data;  ///< the record's
    bam1_t b{};                    ///< its data is `data`, owned here
    RecordHead head;
    Key key;
  };
  std::vector<Input> in(inputs.size());
  struct Cleanup {
    std::vector<Input>& in;
    ~Cleanup() {
      for (auto& x : in)
        if (x.f) std::fclose(x.f);
    }
  } cleanup{in};
  auto advance = [&](std::size_t i) {
    Input& x = in[i];
    const std::size_t got = std::fread(&x.head, 1, sizeof x.head, x.f);
    if (got == 0 && std::feof(x.f)) return false;
    if (got != sizeof x.head) throw InputError(inputs[i].chunk.string(), "truncated or unreadable temporary chunk");
    const BinKey bin = bin_of(x.head.core, x.head.templ);
    if (bin >= bin_end) return false;
    if (bin < bin_begin) throw InternalError("a piece of " + inputs[i].chunk.string() + " starts before its first bin");
    if (x.data.size() < x.head.l_data) x.data.resize(x.head.l_data);
    if (std::fread(x.data.data(), 1, x.head.l_data, x.f) != x.head.l_data) {
      throw InputError(inputs[i].chunk.string(), "truncated or unreadable temporary chunk");
    }
    x.b.core = x.head.core;
    x.b.data = x.data.data();
    x.b.l_data = static_cast<int>(x.head.l_data);
    x.b.m_data = static_cast<std::uint32_t>(x.data.size());
    x.key = key_of(x.head);
    return true;
  };
  using Head = std::pair<Key, std::size_t>;
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heap;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Input& x = in[i];
    x.f = std::fopen(inputs[i].chunk.c_str(), "rb");
    if (!x.f) throw InputError(inputs[i].chunk.string(), "cannot open the temporary chunk: " + errno_text());
    x.buffer.resize(std::size_t{1} << 16);
    std::setvbuf(x.f, x.buffer.data(), _IOFBF, x.buffer.size());
    if (fseeko(x.f, static_cast<off_t>(inputs[i].offset), SEEK_SET) != 0) {
      throw InputError(inputs[i].chunk.string(), "cannot seek in the temporary chunk");
    }
    bam_set_mempolicy(&x.b, BAM_USER_OWNS_STRUCT | BAM_USER_OWNS_DATA);
    if (advance(i)) heap.emplace(x.key, i);
  }
  BgzfWriter fp(out, level);
  std::vector<IndexEvent> events;
  AlignCounts c;
  BinKey bin = bin_begin;
  // End offsets as `samtools index` reads them back: a record that ends a block ends at the next
  // block's start. So an offset is moved forward whenever a block is flushed after it.
  auto note_flush = [&] {
    if (!events.empty()) events.back().voffset = fp.tell();
  };
  while (!heap.empty()) {
    const std::size_t i = heap.top().second;
    heap.pop();
    bam1_t* b = &in[i].b;
    const std::uint32_t templ = in[i].head.templ;
    const int mate = (b->core.flag & BAM_FREAD2) ? 1 : 0;
    const bool mapped = !(b->core.flag & BAM_FUNMAP);
    if (!dups.empty()) {
      if (templ >= dups.size()) throw InternalError("template index beyond the duplicate table");
      if (mapped && (dups[templ] >> mate & 1)) b->core.flag |= BAM_FDUP;
    }
    const BinKey this_bin = bin_of(b->core, templ);
    ++c.records;
    if (b->core.flag & BAM_FSECONDARY) {
      ++c.secondary;
    } else if (b->core.flag & BAM_FSUPPLEMENTARY) {
      ++c.supplementary;
    } else {
      ++c.primary;
      c.mapped += mapped;
      c.properly_paired += (b->core.flag & BAM_FPROPER_PAIR) != 0;
      c.duplicates += (b->core.flag & BAM_FDUP) != 0;
      if ((b->core.flag & (BAM_FPROPER_PAIR | BAM_FREAD1 | BAM_FDUP)) == (BAM_FPROPER_PAIR | BAM_FREAD1) && b->core.isize != 0) {
        ++c.insert_sizes[static_cast<std::int32_t>(std::min<std::int64_t>(std::llabs(b->core.isize), INT32_MAX))];
      }
    }
    if (this_bin != bin) {  // a new bin starts a new block
      fp.flush();
      note_flush();
      bin = this_bin;
    }
    const auto before = fp.tell();
    fp.flush_try(encoded_size(b));  // what write_bam_record would do; seen here for the index
    if (fp.tell() != before) note_flush();
    write_bam_record(fp, b);
    events.push_back({b->core.pos, bam_endpos(b), fp.tell(), b->core.tid, mapped ? 1 : 0});
    if (advance(i)) heap.emplace(in[i].key, i);
  }
  fp.flush();
  note_flush();
  fp.close();
  std::string bytes(events.size() * sizeof(IndexEvent), '\0');
  if (!events.empty()) std::memcpy(bytes.data(), events.data(), bytes.size());
  std::FILE* ev = std::fopen(index_events.c_str(), "wb");
  if (!ev || std::fwrite(bytes.data(), 1, bytes.size(), ev) != bytes.size() || std::fclose(std::exchange(ev, nullptr)) != 0) {
    if (ev) std::fclose(ev);
    throw IoError(failed_write(index_events));
  }
  return c;
}

void assemble_bam(const sam_hdr_t* hdr, const std::vector<std::pair<fs::path, fs::path>>& pieces, int level, const fs::path& out,
                  const fs::path& index_path, AlignFormat format, const fs::path& reference, const fs::path& work, int threads) {
  const bool cram = format == AlignFormat::kCram;
  const fs::path bam_path = cram ? work : out;
  // The header, in blocks of its own.
  const fs::path hdr_path = bam_path.string() + ".header";
  struct Remove {  // whatever happens
    const fs::path& path;
    ~Remove() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } remove_header{hdr_path};
  std::uint64_t hdr_size = 0;
  {
    BgzfWriter fp(hdr_path, level);
    write_bam_header(fp, hdr);
    hdr_size = fp.close();
  }
  // The index, as samtools index makes it: CSI when a contig is too long for BAI.
  int min_shift = 14, n_lvls = 5, fmt = HTS_FMT_BAI;
  std::int64_t max_len = 0;
  for (int t = 0; t < sam_hdr_nref(hdr); ++t) max_len = std::max<std::int64_t>(max_len, sam_hdr_tid2len(hdr, t));
  if (max_len > (1LL << 29) - 1) {
    fmt = HTS_FMT_CSI;
    max_len += 256;
    for (n_lvls = 0; max_len > (1LL << min_shift) << (3 * n_lvls); ++n_lvls) {
    }
  }
  struct IdxFree {
    void operator()(hts_idx_t* i) const noexcept { if (i) hts_idx_destroy(i); }
  };
  std::unique_ptr<hts_idx_t, IdxFree> idx(
      hts_idx_init(sam_hdr_nref(hdr), fmt, hdr_size << 16, min_shift, n_lvls));
  if (!idx) throw InternalError("cannot start a BAM index");

  const int o = ::open(bam_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o < 0) throw IoError("cannot write " + bam_path.string() + ": " + errno_text());
  struct FdCloser {
    int fd;
    ~FdCloser() {
      if (fd >= 0) ::close(fd);
    }
  } closer{o};
  append_bytes(o, bam_path, hdr_path, hdr_size);
  std::error_code ec;
  std::uint64_t base = hdr_size;
  std::vector<IndexEvent> events;
  for (const auto& [piece, event_file] : pieces) {
    const auto piece_size = fs::file_size(piece, ec);
    if (ec) throw InputError(piece.string(), "cannot read the temporary piece: " + ec.message());
    append_bytes(o, bam_path, piece, piece_size);
    const auto ev_size = fs::file_size(event_file, ec);
    if (ec || ev_size % sizeof(IndexEvent) != 0) throw InputError(event_file.string(), "corrupt temporary index events");
    events.resize(ev_size / sizeof(IndexEvent));
    std::FILE* ev = std::fopen(event_file.c_str(), "rb");
    const bool read_ok = ev && std::fread(events.data(), 1, ev_size, ev) == ev_size;
    if (ev) std::fclose(ev);
    if (!read_ok) throw InputError(event_file.string(), "cannot read the temporary index events");
    for (const auto& e : events) {
      const std::uint64_t v = (base + (e.voffset >> 16)) << 16 | (e.voffset & 0xffff);
      if (hts_idx_push(idx.get(), e.tid, e.beg, e.end, v, e.mapped) < 0) {
        throw InternalError("cannot index " + bam_path.string() + " (records out of order?)");
      }
    }
    base += piece_size;
  }
  write_all(o, bam_path, kBgzfEof, sizeof kBgzfEof);
  if (::close(std::exchange(closer.fd, -1)) != 0) throw IoError(failed_write(bam_path));
  if (hts_idx_finish(idx.get(), base << 16) != 0) throw InternalError("cannot finish the index of " + bam_path.string());
  if (!cram) {
    if (hts_idx_save_as(idx.get(), nullptr, index_path.c_str(), fmt) != 0) throw IoError("cannot write the index " + index_path.string());
    return;
  }
  // CRAM: the same records, converted from the BAM.
  SamFilePtr in(sam_open(bam_path.c_str(), "r"));
  SamHdrPtr in_hdr(in ? sam_hdr_read(in.get()) : nullptr);
  if (!in_hdr) throw InputError(bam_path.string(), "cannot read back the BAM to convert");
  SamFilePtr fp(sam_open(out.c_str(), "wc"));
  if (!fp) throw IoError("cannot write " + out.string() + ": " + errno_text());
  if (hts_set_fai_filename(fp.get(), reference.c_str()) != 0) {
    throw InputError(reference.string(), "cannot use this FASTA (and its .fai) as the CRAM reference");
  }
  if (threads > 1 && hts_set_threads(fp.get(), threads) != 0) throw IoError("cannot start compression threads for " + out.string());
  if (sam_hdr_write(fp.get(), hdr) < 0) throw IoError("cannot write " + out.string());
  bam1_t* b = bam_init1();
  int r = 0;
  while ((r = sam_read1(in.get(), in_hdr.get(), b)) >= 0) {
    if (sam_write1(fp.get(), hdr, b) < 0) {
      bam_destroy1(b);
      throw IoError(failed_write(out));
    }
  }
  bam_destroy1(b);
  if (r < -1) throw InputError(bam_path.string(), "corrupt BAM while converting to CRAM");
  if (sam_close(fp.release()) != 0) throw IoError(failed_write(out, "cannot close"));
  in.reset();
  fs::remove(bam_path, ec);
  if (sam_index_build3(out.c_str(), index_path.c_str(), 0, std::max(threads, 1)) < 0) throw IoError("cannot index " + out.string());
}

}  // namespace genoforest::align
