#!/usr/bin/env bash
# The message catalogues (locale/README.md): extract → update → translate → compile.
#   scripts/i18n.sh extract [POT]  messages of the sources → locale/messages.pot (or POT)
#   scripts/i18n.sh update         .pot → locale/{fr,en}/LC_MESSAGES/messages.po (fr: msgstr = msgid)
#   scripts/i18n.sh compile        .po → .mo, only those older than their .po (build step)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-$(command -v .venv/bin/pybabel || command -v pybabel)}
PYTHON=${PYTHON:-$(command -v .venv/bin/python || command -v python3)}
LANGUAGES="fr en"

case "${1:-}" in
  extract)
    # --add-location=file: no line numbers, so editing code does not churn the catalogues.
    "$PYBABEL" -q extract -F babel.cfg -o "${2:-locale/messages.pot}" \
      -k N_ -k bilingual -k localized -c "Translators:" \
      --add-location=file --sort-output --ignore-dirs='.* ._ node_modules __pycache__ tests bench docs deploy' \
      --project="Paris Live" --copyright-holder="Ville de Paris" \
      --msgid-bugs-address="paris-live@paris.fr" \
      .  # babel.cfg's patterns are relative to the repository root
    ;;
  update)
    for lang in $LANGUAGES; do
      "$PYBABEL" -q update -i locale/messages.pot -d locale -D messages -l "$lang" \
        --init-missing --no-fuzzy-matching --ignore-obsolete -w 100
    done
    # The msgids are the French text: the fr catalogue starts from them (a translator may still
    # reword one there without touching the code).
    "$PYTHON" - <<'PY'
from babel.messages.pofile import read_po, write_po

path = "locale/fr/LC_MESSAGES/messages.po"
with open(path, "rb") as fp:
    catalogue = read_po(fp, locale="fr")
for message in catalogue:
    if message.id and not (message.string if isinstance(message.string, str) else all(message.string)):
        message.string = message.id if isinstance(message.id, str) else tuple(message.id)
with open(path, "wb") as fp:
    write_po(fp, catalogue, width=100, sort_output=True, ignore_obsolete=True)
PY
    ;;
  compile)
    for po in locale/*/LC_MESSAGES/messages.po; do
      mo=${po%.po}.mo
      if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
        "$PYBABEL" -q compile -i "$po" -o "$mo"
      fi
    done
    ;;
  *)
    echo "usage: scripts/i18n.sh extract [POT] | update | compile" >&2
    exit 2
    ;;
esac
