#!/usr/bin/env bash
# The check step of ci/action.yml (kept in a file so it can be run and tested
# outside GitHub). Inputs arrive as environment variables:
#   DLGRADE_PATH        submission folder (default .)
#   DLGRADE_QUICK       "true" for data slices (default true)
#   DLGRADE_ASSIGNMENT  edition, or empty to read it from the submission
#   DLGRADE_FAIL_UNDER  fail when the judged parts score below this percentage;
#                       empty: never fail the job on the grade
#   DLGRADE_OUT         where report.html and junit.xml go (default $RUNNER_TEMP/dlgrade)
#   DLGRADE_ISOLATION   bwrap, user or none (default none: the student's own code on the
#                       student's own runner, where GitHub's images refuse bubblewrap's
#                       namespaces; the grade that counts is the TA's, in bwrap or user mode)
#   GITHUB_STEP_SUMMARY the job summary file GitHub provides
# Exit status: 0, unless DLGRADE_FAIL_UNDER is set: then 1 below it, 2 when the
# checks could not run.
set -uo pipefail

out="${DLGRADE_OUT:-${RUNNER_TEMP:-/tmp}/dlgrade}"
mkdir -p "$out"
args=(check "${DLGRADE_PATH:-.}" --report "$out/report.html" --junit "$out/junit.xml")
args+=(--isolation "${DLGRADE_ISOLATION:-none}")
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  args+=(--summary "$GITHUB_STEP_SUMMARY")
fi
if [[ "${DLGRADE_QUICK:-true}" == "true" ]]; then
  args+=(--quick)
fi
if [[ -n "${DLGRADE_ASSIGNMENT:-}" ]]; then
  args+=(--assignment "$DLGRADE_ASSIGNMENT")
fi

if [[ -n "${DLGRADE_FAIL_UNDER:-}" ]]; then
  dlgrade "${args[@]}" --fail-under "$DLGRADE_FAIL_UNDER"
  exit $?
fi

# Not asked to fail: 0 below any score; a run that could not finish is a warning.
status=0
dlgrade "${args[@]}" --fail-under 0 || status=$?
if ((status != 0)); then
  echo "::warning title=dlgrade self-check::the checks could not run (exit status $status); see the job summary and the dlgrade-report artifact"
fi
exit 0
