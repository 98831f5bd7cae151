#!/usr/bin/env bash
# Installs the Debian packages a command needs (when root), or says what to install (otherwise).
#   ensure-system-deps.sh python   the venv module (python3-venv)
#   ensure-system-deps.sh ocr      + Tesseract with Dutch, French and German (ID-card copies)
#   ensure-system-deps.sh test     + Tesseract, Dovecot for the IMAP tests (dovecot-imapd),
#                                    systemd-analyze and libseccomp for the unit checks
#                                    Chromium and its driver for the web console's browser tests
set -euo pipefail
what=${1:-python}
need=()
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ "$what" = ocr ] || [ "$what" = test ]; then
  command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
  for lang in nld fra deu; do
    [ -e "/usr/share/tesseract-ocr/5/tessdata/$lang.traineddata" ] || need+=("tesseract-ocr-$lang")
  done
fi
if [ "$what" = test ]; then
  # The real MRZ typeface for the generated ID-card images of the tests.
  [ -d /usr/share/fonts/opentype/ocr-b ] || need+=(fonts-ocr-b)
  [ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
  command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  # the unit checks (systemd-analyze) and the MemoryDenyWriteExecute check (libseccomp)
  command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
  ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so' || need+=(libseccomp2)
  # The web console's browser tests: headless Chromium driven by Selenium.
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${need[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
# The tests start their own private Dovecot; the system service the package may have started
# is not wanted on a build machine.
if printf '%s\n' "${need[@]}" | grep -qx dovecot-imapd && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now dovecot >/dev/null 2>&1 || true
fi
