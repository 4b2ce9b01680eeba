# lib.sh - helpers shared by the integration tests (sourced, not run).
# Each test sets $work (a temp dir); these count passes and failures and
# print "ok NAME" / "FAIL NAME" lines; `summary` prints the closing
# "N passed, M failed" line and returns non-zero on failure.
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$work/err" ] && sed 's/^/    /' "$work/err" | head -5; }
# expect NAME CODE CMD...: the command's exit code must be CODE
expect() {
    local name="$1" code="$2"; shift 2
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" -eq "$code" ]; then ok "$name"; else bad "$name (exit $rc, want $code)"; fi
}
# has NAME FILE REGEX: FILE must match the extended regular expression
has() { if grep -qE "$3" "$2"; then ok "$1"; else bad "$1 (no /$3/ in $2)"; fi; }
summary() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
