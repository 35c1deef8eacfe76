# bench_sql.awk: turns what procsvc sent PostgreSQL for one request into a
# pgbench script that sends the same statements, so the database's ceiling
# for a workload is measured on exactly procsvc's SQL (scripts/bench.sh).
#
# Input: the server log of that one request, logged with log_statement=all
# and log_line_prefix='%a:' (only lines of application procsvc are read):
#   procsvc:LOG:  statement: BEGIN
#   procsvc:LOG:  execute proc_list: SELECT ... WHERE a = $1 AND b = $2
#   procsvc:DETAIL:  parameters: $1 = '0', $2 = '7'
# Output: the script on stdout, one statement per line, parameter $N of the
# k-th statement written as :skpN (pgbench -M prepared sends it as a bind
# parameter again); and in the file named by -v params=FILE one
# "skpN=value" line per parameter, for pgbench -D. A NULL parameter is
# written as NULL in place (pgbench -D cannot say NULL).
#
#   awk -v params=FILE -v name=WORKLOAD -f scripts/bench_sql.awk LOG > SCRIPT

BEGIN {
	if (params == "")
		fail("-v params=FILE is required")
	printf "" > params
	print "-- " name ": what procsvc sends PostgreSQL for one request of this workload,"
	print "-- captured and rewritten by scripts/bench.sh (BENCH_UPDATE=1 make bench);"
	print "-- make bench fails when procsvc's statements no longer match this file."
}

function fail(msg) {
	print "bench_sql.awk: " msg > "/dev/stderr"
	failed = 1
	exit 1
}

# Prints the statement held back for its parameters, if any.
function flush() {
	if (held != "")
		print held ";"
	held = ""
}

# Replaces $N by the value text vals[N] (variable or NULL) in sql.
function substitute(sql, vals,    out, n) {
	out = ""
	while (match(sql, /\$[0-9]+/)) {
		n = substr(sql, RSTART + 1, RLENGTH - 1)
		if (!(n in vals))
			fail("statement " k " uses $" n " but no value was logged for it")
		out = out substr(sql, 1, RSTART - 1) vals[n]
		sql = substr(sql, RSTART + RLENGTH)
	}
	return out sql
}

!/^procsvc:/ { next }

{ sub(/^procsvc:/, "") }

/^LOG:  statement: / {
	flush()
	held = substr($0, length("LOG:  statement: ") + 1)
	next
}

/^LOG:  execute [^ :]+: / {
	flush()
	k++
	sub(/^LOG:  execute [^ :]+: /, "")
	held = $0
	if (held ~ /\$[0-9]/)
		waiting = 1
	next
}

/^DETAIL:  parameters: / {
	if (!waiting)
		fail("parameters without a statement: " $0)
	rest = substr($0, length("DETAIL:  parameters: ") + 1)
	delete vals
	while (rest != "") {
		if (!match(rest, /^\$[0-9]+ = /))
			fail("cannot read parameters at: " substr(rest, 1, 60))
		n = substr(rest, 2, RLENGTH - 4)
		rest = substr(rest, RLENGTH + 1)
		if (substr(rest, 1, 4) == "NULL") {
			vals[n] = "NULL"
			rest = substr(rest, 5)
		} else if (substr(rest, 1, 1) == "'") {
			# A quoted value: '' stands for one quote.
			v = ""
			rest = substr(rest, 2)
			for (;;) {
				q = index(rest, "'")
				if (q == 0)
					fail("unterminated value of $" n)
				v = v substr(rest, 1, q - 1)
				rest = substr(rest, q + 1)
				if (substr(rest, 1, 1) != "'")
					break
				v = v "'"
				rest = substr(rest, 2)
			}
			if (v ~ /\n/)
				fail("$" n " holds a line break, which pgbench -D cannot pass")
			vals[n] = ":s" k "p" n
			print "s" k "p" n "=" v > params
		} else {
			fail("cannot read the value of $" n)
		}
		sub(/^, /, "", rest)
	}
	held = substitute(held, vals)
	waiting = 0
	next
}

/^(LOG|DETAIL|ERROR|STATEMENT|WARNING|HINT|CONTEXT):/ {
	if ($0 ~ /^ERROR:/)
		fail("the request failed in the database: " $0)
	next
}

# A continuation line: the previous message spans lines (not our SQL).
{ fail("a logged statement spans lines; cannot replay it: " substr($0, 1, 60)) }

END {
	if (failed)
		exit 1
	if (waiting)
		fail("statement " k " has parameters but none were logged")
	flush()
	close(params)
}
