#!/usr/bin/env bash
# deploypkg as a GitHub Actions step (.ci/github/action.yml runs it with the action's inputs as
# INPUT_* variables). It runs one command, writes a Markdown summary to $GITHUB_STEP_SUMMARY and
# the outputs exit-code and out-dir to $GITHUB_OUTPUT, uploads nothing, and exits as deploypkg did.
set -uo pipefail

command="${INPUT_COMMAND:-validate}"
read -r -a paths <<< "${INPUT_PATHS:-.}"
region_args=()
for region in ${INPUT_REGIONS:-}; do
  region_args+=(--region "$region")
done
out="${INPUT_OUT:-deploypkg-out}"
format="${INPUT_FORMAT:-text}"
report="${INPUT_OUTPUT_FILE:-}"
summary="$(mktemp)"
text="$(mktemp)"
trap 'rm -f "$summary" "$text"' EXIT

case "$command" in
  validate)
    if [ -n "$report" ]; then
      deploypkg validate "${paths[@]}" --format "$format" --output-file "$report" --also-text > "$text"
    else
      deploypkg validate "${paths[@]}" --format "$format" > "$text"
    fi
    code=$?
    cat "$text"
    {
      echo "## deploypkg validate"
      echo
      if [ "$format" = text ] || [ -n "$report" ]; then
        echo '```text'
        cat "$text"
        echo '```'
      else
        echo "The $format report is in the step's log."
      fi
    } > "$summary"
    ;;
  render)
    deploypkg render "${paths[@]}" "${region_args[@]}" --out "$out" --summary "$summary"
    code=$?
    [ -s "$summary" ] || printf '## deploypkg render\n\nNothing was rendered (exit %s); see the log.\n' "$code" > "$summary"
    ;;
  plan)
    deploypkg plan "${paths[0]}" "${region_args[@]}" -- -detailed-exitcode | tee "$text"
    code=${PIPESTATUS[0]}
    case "$code" in
      0) verdict="no changes in any region" ;;
      2) verdict="changes in some region" ;;
      *) verdict="failed" ;;
    esac
    printf '## deploypkg plan\n\nExit %s: %s. Each region'"'"'s plan is in the step'"'"'s log.\n' "$code" "$verdict" > "$summary"
    ;;
  *)
    echo "deploypkg action: command must be validate, render or plan, not '$command'" >&2
    code=2
    printf '## deploypkg\n\nUnknown command %s.\n' "$command" > "$summary"
    ;;
esac

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$summary" >> "$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "exit-code=$code"
    echo "out-dir=$out"
  } >> "$GITHUB_OUTPUT"
fi
exit "$code"
