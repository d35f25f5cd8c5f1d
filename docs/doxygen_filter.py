#!/usr/bin/env python3
"""Doxygen INPUT_FILTER: presents the headers' plain // comments as documentation.

Usage (by doxygen): doxygen_filter.py FILE  -> the filtered text on stdout.
- The comment block before the include guard describes the file (\\file).
- A comment on lines of its own documents the declaration that follows (///), except
  section dividers (`// ---- Reading ----`).
- A comment after a member or enumerator (`x;  // ...`, `kFoo,  // ...`) documents that
  member (///<), and so do the comment lines aligned under it.
"""
import re
import sys

OWN_LINE = re.compile(r"^(\s*)//(?!/)\s?(.*)$")
TRAILING = re.compile(r"^(.*?[;,])(\s+)//(?!/)\s?(.*)$")


def doc(text):
    """Comment text as Doxygen reads it literally (a backslash is not a command)."""
    return text.replace("\\", "\\\\")


def filter_lines(lines):
    out = []
    in_header = True  # the comment lines before any code describe the file
    trailing_col = None  # column of the last trailing member comment, for continuations
    for line in lines:
        body = line.rstrip("\n")
        own = OWN_LINE.match(body)
        if in_header and own:
            if not out:
                out.append("/// \\file")
            out.append("/// " + doc(own.group(2)))
            continue
        in_header = False
        if own and trailing_col is not None and len(own.group(1)) == trailing_col:
            out.append(own.group(1) + "///< " + doc(own.group(2)))
            continue
        trailing_col = None
        if own and own.group(2).startswith("---"):
            out.append(body)  # a section divider ("// ---- Reading ----"), not documentation
            continue
        if own:
            out.append(own.group(1) + "/// " + doc(own.group(2)))
            continue
        m = TRAILING.match(body)
        if m:
            code, space, text = m.groups()
            out.append(code + space + "///< " + doc(text))
            trailing_col = len(code) + len(space)
            continue
        out.append(body)
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = filter_lines(f.readlines())
    sys.stdout.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
