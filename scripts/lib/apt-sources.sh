# shellcheck shell=bash
# Reads apt's source lists the way apt does, in every layout a Debian or Ubuntu machine may have: the one-line
# format (sources.list, sources.list.d/*.list), deb822 (sources.list.d/*.sources), both, or either missing.
# Sourced by install.sh; tested by test/unit/install-apt-sources.test.ts on fixture layouts.

# apt_suite_uri APT_DIR SUITE: prints the first enabled `deb` URI (http, https or ftp) that serves SUITE, or
# nothing. Never fails: a missing file or folder is simply not read.
apt_suite_uri() {
  local dir=$1 suite=$2 f
  local files=()
  [[ -f "$dir/sources.list" ]] && files+=("$dir/sources.list")
  if [[ -d "$dir/sources.list.d" ]]; then
    while IFS= read -r f; do files+=("$f"); done < <(
      find "$dir/sources.list.d" -maxdepth 1 -type f \( -name '*.list' -o -name '*.sources' \) 2>/dev/null | LC_ALL=C sort)
  fi
  ((${#files[@]})) || return 0
  awk -v suite="$suite" '
    function has_word(list, w,   n, i, a) { n = split(list, a, /[ \t]+/); for (i = 1; i <= n; i++) if (a[i] == w) return 1; return 0 }
    function web(u) { return u ~ /^(https?|ftp):\/\// }
    function flush(   n, i, u) {
      if (has_word(types, "deb") && tolower(enabled) != "no" && has_word(suites, suite)) {
        n = split(uris, u, /[ \t]+/)
        for (i = 1; i <= n; i++) if (web(u[i])) { print u[i]; done = 1; exit }
      }
      types = ""; uris = ""; suites = ""; enabled = ""; last = ""
    }
    FNR == 1 { flush() }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^[ \t]*#/) next
      if ($0 ~ /^[ \t]/) { if (last == "uris") uris = uris " " $0; else if (last == "suites") suites = suites " " $0; next }
      key = tolower($0); sub(/:.*/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val); last = key
      if (key == "types") types = val; else if (key == "uris") uris = val
      else if (key == "suites") suites = val; else if (key == "enabled") enabled = val
      next
    }
    {
      line = $0; sub(/#.*/, "", line); gsub(/\[[^]]*\]/, " ", line)
      n = split(line, f, /[ \t]+/); j = 0
      for (i = 1; i <= n; i++) if (f[i] != "") w[++j] = f[i]
      if (j >= 3 && w[1] == "deb" && w[3] == suite && web(w[2])) { print w[2]; done = 1; exit }
    }
    END { if (!done) flush() }
  ' "${files[@]}"
}
