#!/usr/bin/env bash
# Install promtool (the alert rule tests run `promtool check rules` and
# `promtool test rules`) from the distribution's `prometheus` package.
#
#   scripts/install_promtool.sh [APT_VERSION]
#
# APT_VERSION pins the package (an apt version, globs allowed, e.g.
# '2.42.0+ds-*' for Debian 12); empty takes the distribution's candidate.
#
# promtool already on PATH: nothing to do. No apt-get, or not root: say so and
# exit 0 (the rule tests then skip with the reason, or fail where $CI is set).
#
# The package also carries the Prometheus server and an init script/unit that
# its postinst starts. Nothing here may start it: a policy-rc.d that denies
# every service action is put in place for the install (unless one exists
# already), which both invoke-rc.d and deb-systemd-invoke obey, and the install
# is checked afterwards for a running prometheus.
set -euo pipefail

apt_version="${1:-}"

if command -v promtool >/dev/null 2>&1; then
  echo "promtool: $(command -v promtool) ($(promtool --version 2>&1 | head -n 1))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "promtool: not on PATH and apt-get is not available; install Prometheus' promtool by hand" \
       "(the alert rule tests skip without it)" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "promtool: not on PATH; run \`sudo make promtool\` (installs the distribution's prometheus package)" \
       "(the alert rule tests skip without it)" >&2
  exit 0
fi

# Only /usr/sbin/policy-rc.d counts for invoke-rc.d; POLICY_RC_D lets the script's own tests watch it elsewhere.
policy="${POLICY_RC_D:-/usr/sbin/policy-rc.d}"
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# Temporary (scripts/install_promtool.sh): start no service while prometheus installs.\nexit 101\n' \
    > "$policy"
  chmod 0755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

package=prometheus${apt_version:+=$apt_version}
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: Recommends pulls in prometheus-node-exporter, another service.
apt-get install -y -qq --no-install-recommends "$package" >/dev/null

# /proc rather than pgrep: procps is not always installed.
running=$(grep -lx prometheus /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3 | tr '\n' ' ' || true)
if [ -n "$running" ]; then
  echo "promtool: installing $package started a prometheus server (pid $running)" \
       "although service starts were denied; stop it with \`service prometheus stop\`" >&2
  exit 1
fi
echo "promtool: installed $package: $(command -v promtool) ($(promtool --version 2>&1 | head -n 1))"
