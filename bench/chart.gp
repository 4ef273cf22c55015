# bench/chart.gp: the chart of bench/run.sh, from dat (benchmark, bt/native, bt/qemu,
# goal) to png: two bars per benchmark on a log scale, 1 = as fast as the reference;
# below 1 bt is faster. The goal to native is a point over the first bar.
set terminal pngcairo size 1200,600 font "sans,10"
set output png
set title "bt: time per operation over native and over QEMU TCG (log scale, lower is better)"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.01:*]
set ylabel "ratio of times"
set xtics rotate by -40 scale 0
set grid ytics
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "black"
plot dat using 2:xtic(1) title "bt / native" lc rgb "#3465a4", \
     "" using 3 title "bt / QEMU TCG" lc rgb "#f57900", \
     "" using ($0 - 0.2):4 with points pt 7 ps 0.8 lc rgb "#cc0000" title "goal (bt / native)"
