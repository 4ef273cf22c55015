# bench/table.awk: the table of bench/run.sh. Reads raw records "SUITE NAME VMM REP NS"
# (ns per operation), prints per benchmark the median over runs of native, bt and
# QEMU with each one's spread ((max - min) / median), the ratios of the medians
# bt/native and bt/QEMU and the goals met ("ok") or missed ("MISS"); writes the same
# as CSV to csv and the ratios for gnuplot to dat.

function median(k,    n, i, j, t, a) {
	n = cnt[k]
	for (i = 1; i <= n; i++) a[i] = val[k, i]
	for (i = 2; i <= n; i++)	# insertion sort: a handful of values
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	lo[k] = a[1]; hi[k] = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v) {
	if (v == "") return "-"
	if (v < 10) return sprintf("%.2f", v)
	if (v < 1000) return sprintf("%.1f", v)
	return sprintf("%.0f", v)
}
function spread(k, m) { return m > 0 ? sprintf("%.0f%%", 100 * (hi[k] - lo[k]) / m) : "-" }
function ratio(a, b) { return a == "" || b == "" || b == 0 ? "" : a / b }
function rfmt(r) { return r == "" ? "-" : sprintf(r < 10 ? "%.2f" : "%.0f", r) }

BEGIN {
	# Order, what an operation is, and the goal as a ratio to native (0: none).
	n = split("nano:syscall nano:in-port nano:cr3-write nano:context-switch nano:cli+sti " \
		  "nano:pushf+popf nano:call+ret nano:page-fault nano:div0 nano:pte-write nano:loop-cpl3 " \
		  "macro:fork macro:exec macro:pagefault macro:pipe macro:int macro:memcpy macro:gzip " \
		  "macro:fileio", order, " ")
	goal["nano:syscall"] = 5; goal["nano:call+ret"] = 1.05; goal["nano:page-fault"] = 3
	goal["nano:div0"] = 3; goal["nano:pte-write"] = 3; goal["nano:loop-cpl3"] = 1.05
	goal["macro:fork"] = 6; goal["macro:pagefault"] = 3; goal["macro:pipe"] = 5
	goal["macro:int"] = 1.05; goal["macro:memcpy"] = 1.05
	op["nano:syscall"] = "INT 0x80 / getppid()"; op["nano:in-port"] = "IN from the PIC"
	op["nano:cr3-write"] = "MOV to CR3"; op["nano:context-switch"] = "switch (yield+CR3 / pipe)"
	op["nano:cli+sti"] = "CLI;STI pair"; op["nano:pushf+popf"] = "PUSHF;POPF pair"
	op["nano:call+ret"] = "CALL+RET at CPL 0"; op["nano:page-fault"] = "demand-zero page"
	op["nano:div0"] = "#DE to handler / SIGFPE"; op["nano:pte-write"] = "store to a PTE"
	op["nano:loop-cpl3"] = "4 integer ops at CPL 3"
	op["macro:fork"] = "fork+exit+wait"; op["macro:exec"] = "fork+exec+wait"
	op["macro:pagefault"] = "first write to a page"; op["macro:pipe"] = "pipe round trip"
	op["macro:int"] = "integer kernel step"; op["macro:memcpy"] = "MiB copied"
	op["macro:gzip"] = "MiB gzipped"; op["macro:fileio"] = "4 KiB write+read"
}
{ k = $1 ":" $2 SUBSEP $3; val[k, ++cnt[k]] = $5 }
END {
	printf "%-21s %-26s %10s %5s %10s %5s %10s %5s %8s %6s %8s  %s\n", "benchmark", "operation",
	       "native ns", "+-", "bt ns", "+-", "qemu ns", "+-", "bt/nat", "goal", "bt/qemu", "verdict"
	print "suite,benchmark,operation,native_ns,native_spread,bt_ns,bt_spread,qemu_ns,qemu_spread," \
	      "bt_over_native,goal_over_native,bt_over_qemu,native_goal,qemu_goal,runs" >csv
	print "# benchmark bt/native bt/qemu goal" >dat
	for (i = 1; i <= n; i++) {
		b = order[i]
		split(b, parts, ":")
		m["native"] = m["bt"] = m["qemu"] = ""
		s["native"] = s["bt"] = s["qemu"] = "-"
		runs = ""
		for (v = 1; v <= 3; v++) {
			vmm = v == 1 ? "native" : v == 2 ? "bt" : "qemu"
			if (!((b SUBSEP vmm) in cnt)) continue
			m[vmm] = median(b SUBSEP vmm)
			s[vmm] = spread(b SUBSEP vmm, m[vmm])
			runs = runs (runs == "" ? "" : "/") vmm "=" cnt[b SUBSEP vmm]
		}
		if (m["bt"] == "" && m["native"] == "" && m["qemu"] == "") continue
		rn = ratio(m["bt"], m["native"]); rq = ratio(m["bt"], m["qemu"])
		g = goal[b] ? goal[b] : ""
		vn = g == "" || rn == "" ? "" : rn <= g ? "ok" : "MISS"
		vq = rq == "" ? "" : rq < 1 ? "ok" : "MISS"
		verdict = (vn == "" ? "" : "native " vn) (vn != "" && vq != "" ? ", " : "") (vq == "" ? "" : "qemu " vq)
		if (m["bt"] == "") verdict = "bt FAILED"
		printf "%-21s %-26s %10s %5s %10s %5s %10s %5s %8s %6s %8s  %s\n", parts[1] " " parts[2], op[b],
		       fmt(m["native"]), s["native"], fmt(m["bt"]), s["bt"], fmt(m["qemu"]), s["qemu"],
		       rfmt(rn), g == "" ? "-" : g "x", rfmt(rq), verdict
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", parts[1], parts[2], op[b], m["native"],
		       s["native"], m["bt"], s["bt"], m["qemu"], s["qemu"], rn, g, rq, vn, vq, runs >csv
		printf "%s %s %s %s\n", parts[2], rn == "" ? "-" : rn, rq == "" ? "-" : rq, g == "" ? "-" : g >dat
	}
	print "+- is each figure's spread over its runs, (max - min) / median; ratios are of medians;"
	print "native: the same instructions at CPL 3 on the host, or the host kernel doing the same job (bench/README.md)."
}
