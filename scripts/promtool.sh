#!/usr/bin/env bash
#
# promtool.sh DIR: puts Prometheus's promtool at DIR/promtool, for make test
# (`promtool check metrics` on a real scrape, the example alert rules).
#
# It comes from Debian's `prometheus` package, but the package is not
# installed: that would also create a system user and, under systemd,
# enable and start a Prometheus server on :9090 on every machine that runs
# make test, and pull in a dozen JavaScript packages for its web pages.
# promtool is one static binary, so it is taken out of the package file:
# one 19 MB download per machine, nothing installed system-wide.

set -eu

dir=${1:?usage: promtool.sh DIR}
if [ -x "$dir/promtool" ]; then
	exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt drops its privileges to _apt while downloading, when it can.
chmod 0755 "$work"
cd "$work"
if ! apt-get download -qq prometheus >/dev/null 2>&1; then
	# No package lists yet (a fresh machine): fetch them, then retry.
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
	$SUDO apt-get update -qq
	apt-get download -qq prometheus >/dev/null
fi
dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool
install -m 0755 usr/bin/promtool "$dir/promtool.new"
mv "$dir/promtool.new" "$dir/promtool"
echo "promtool: $("$dir/promtool" --version 2>&1 | head -n 1) in $dir"
