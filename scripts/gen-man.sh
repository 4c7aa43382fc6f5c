#!/usr/bin/env bash
# Writes the manual page genoforest(1) from the binary's own --help (one source for the option
# reference, as docs/cli.md). The build runs it (target genoforest_man); `cmake --install` and the
# .deb put the page in share/man/man1.
#   scripts/gen-man.sh BINARY OUT.1
set -euo pipefail
bin=$1
out=$2
version=$("$bin" --help | sed -n '1s/^genoforest \([^:]*\):.*/\1/p')
# troff: a backslash is \e; a line starting with . or ' would be a request; - is \- (a minus).
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/" -e 's/-/\\-/g'; }
{
  echo ".TH GENOFOREST 1 \"\" \"genoforest $version\" \"User Commands\""
  echo ".SH NAME"
  echo "genoforest \\- population-scale genomics and machine learning with MPI"
  echo ".SH SYNOPSIS"
  echo ".B mpirun \\-n"
  echo ".I N"
  echo ".B genoforest"
  echo ".I stage"
  echo "[options]"
  echo ".br"
  echo ".B genoforest run \\-\\-config"
  echo ".I X.ini"
  echo ".SH DESCRIPTION"
  echo ".nf"
  "$bin" --help | tail -n +3 | esc
  echo ".fi"
  echo "Every option can also be given in the [stage] section of an INI file passed with \\-\\-config"
  echo "(same names, key = value); the command line wins."
  echo ".SH STAGES"
  for stage in run simulate index align call features summary train cv predict model pca cluster; do
    echo ".SS genoforest $stage"
    echo ".nf"
    "$bin" "$stage" --help | esc
    echo ".fi"
  done
  echo ".SH EXIT STATUS"
  echo ".nf"
  echo "0  success"
  echo "1  internal error (a bug: please report it)"
  echo "2  usage: a bad option, value or config key; an output that is an input, a device or a folder"
  echo "3  malformed input (the line names the file and the record)"
  echo "4  inconsistent inputs (files that do not belong together)"
  echo "5  degenerate data (no variant passes the filters, one class only)"
  echo "6  I/O refused by the system (a missing file, an unwritable folder, a full disk)"
  echo "7  interrupted (SIGTERM/SIGINT): rerun the same command to resume"
  echo ".fi"
  echo "Details: errors.md in the documentation folder."
  echo ".SH FILES"
  echo "The documentation (Markdown) is in share/doc/genoforest; Slurm job scripts to copy and edit in"
  echo "share/genoforest/slurm; config templates in share/genoforest/configs."
  echo ".SH SEE ALSO"
  echo ".BR mpirun (1),"
  echo ".BR bcftools (1),"
  echo ".BR plink2 (1),"
  echo ".BR samtools (1)"
} > "$out.tmp"
mv "$out.tmp" "$out"
