#pragma once
/// @file serialize.hpp
/// Boost.Serialization for core types that travel between ranks (non-intrusive, so that the
/// algorithm headers stay free of transport concerns).
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include "genoforest/core/region.hpp"
#include "genoforest/ml/forest.hpp"
#include "genoforest/ml/matrix.hpp"

namespace genoforest {
template <class Ar>
void serialize(Ar& ar, Region& r, unsigned /*version*/) {
  ar & r.contig & r.beg & r.end;
}
namespace ml {
template <class Ar>
void serialize(Ar& ar, Labels& y, unsigned /*version*/) {
  ar & y.task & y.n_classes & y.code & y.value;
}
template <class Ar>
void serialize(Ar& ar, FeatureMatrix::Column& c, unsigned /*version*/) {
  ar & c.offset & c.bins & c.packed;
}
template <class Ar>
void serialize(Ar& ar, FeatureMatrix::Layout& l, unsigned /*version*/) {
  ar & l.n_rows & l.cols & l.bytes;
}
}  // namespace ml
}  // namespace genoforest
