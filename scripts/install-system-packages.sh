#!/usr/bin/env bash
# The Debian packages Relais uses beside Python: tesseract (reading screenshots) with the
# French, English, Arabic, Persian (for Dari) and Pashto data, fonts for the generated test
# screenshots and for Arabic script, and chromium for the web chat's browser tests. Run as
# root on Debian or Ubuntu. poppler-utils (pdftotext, pdftoppm) lets the tests read and render
# the PDF documents; postgresql gives the tests a real PostgreSQL server (started by them in a
# temporary folder as an unprivileged user, never as a system service); does nothing when all
# are present.
set -euo pipefail
packages=(tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng tesseract-ocr-ara tesseract-ocr-fas
          tesseract-ocr-pus fonts-dejavu-core fonts-noto-core chromium poppler-utils postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
