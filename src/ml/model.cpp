#include "genoforest/ml/model.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "genoforest/core/error.hpp"
#include "genoforest/core/files.hpp"
#include "genoforest/core/rng.hpp"

namespace genoforest::ml {

namespace fs = std::filesystem;

std::string VariantKey::match_key() const {
  std::string_view c = chrom;
  if (c.size() > 3 && (c[0] == 'c' || c[0] == 'C') && (c[1] == 'h' || c[1] == 'H') && (c[2] == 'r' || c[2] == 'R')) c.remove_prefix(3);
  const std::string_view contig = c == "M" ? std::string_view("MT") : c;
  return std::string(contig) + ':' + std::to_string(pos) + ':' + ref + ':' + alt;
}

namespace {
constexpr char kMagic[] = "genoforest-model\n";
constexpr std::size_t kMagicLen = sizeof(kMagic) - 1;

std::uint64_t checksum(const std::string& s) {
  std::uint64_t h = 0x243F6A8885A308D3ULL ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix64(h ^ w);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return mix64(h ^ tail ^ (static_cast<std::uint64_t>(s.size() - i) << 56));
}

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
template <class T>
T get(const std::string& in, std::size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}
}  // namespace

std::string Model::feature_name(std::int64_t f) const {
  if (f < static_cast<std::int64_t>(variants.size())) {
    const auto& v = variants[static_cast<std::size_t>(f)];
    return v.chrom + ":" + std::to_string(v.pos) + ":" + v.ref + ":" + v.alt;
  }
  return extras[static_cast<std::size_t>(f - static_cast<std::int64_t>(variants.size()))].name;
}

void save_model(const Model& m, const std::filesystem::path& path) {
  std::ostringstream os(std::ios::binary);
  {
    boost::archive::binary_oarchive oa(os, boost::archive::no_header);
    oa << m;
  }
  const std::string payload = os.str();
  std::string head(kMagic, kMagicLen);
  put<std::uint32_t>(head, kModelFormatVersion);
  put<std::uint64_t>(head, payload.size());
  put<std::uint64_t>(head, checksum(payload));
  write_atomically(path, head + payload);
}

Model load_model(const std::filesystem::path& path) {
  const std::string p = path.string();
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(p, "is a folder, not a model file (from 'genoforest train -o')");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot open " + p + ": " + errno_text());
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const std::size_t head = kMagicLen + 4 + 8 + 8;
  if (all.size() < kMagicLen || all.compare(0, kMagicLen, kMagic) != 0) {
    throw InputError(p, "not a genoforest model file (it does not start with 'genoforest-model')");
  }
  if (all.size() < head) throw InputError(p, "truncated model file (incomplete header)");
  const auto version = get<std::uint32_t>(all, kMagicLen);
  if (version != kModelFormatVersion) {
    throw InputError(p, "model format version " + std::to_string(version) + ", but this genoforest reads version " +
                            std::to_string(kModelFormatVersion) + ": train the model again with this version");
  }
  const auto size = get<std::uint64_t>(all, kMagicLen + 4);
  const auto sum = get<std::uint64_t>(all, kMagicLen + 12);
  if (all.size() - head != size) {
    throw InputError(p, "truncated or extended model file (" + std::to_string(all.size() - head) + " payload bytes, expected " +
                            std::to_string(size) + ")");
  }
  const std::string payload = all.substr(head);
  if (checksum(payload) != sum) throw InputError(p, "corrupt model file (checksum mismatch)");
  Model m;
  try {
    std::istringstream is(payload, std::ios::binary);
    boost::archive::binary_iarchive ia(is, boost::archive::no_header);
    ia >> m;
  } catch (const std::exception& e) {
    throw InputError(p, std::string("corrupt model file (") + e.what() + ")");
  }
  return m;
}

}  // namespace genoforest::ml
