#!/bin/sh
# /test.sh of the Linux guest (tests/linux/rootfs/, put into the initramfs by
# scripts/linux-image.sh): the guest side of tests/linux/boot-test.sh, which checks
# each section between "bt-test: begin NAME" and "bt-test: end NAME".
begin() { echo "bt-test: begin $1"; }
end() { echo "bt-test: end $1"; }

begin uname
uname -a
end uname

begin cpuinfo
cat /proc/cpuinfo
end cpuinfo

begin mount
mount
end mount

# 1,000 fork + execve: /bin/true is a path, so busybox sh runs it with execve.
begin fork
n=0
while [ $n -lt 1000 ]; do
	/bin/true || break
	n=$((n + 1))
done
echo "fork: $n"
end fork

begin compute
sh /compute.sh
end compute

begin ls
ls -R /proc/self
end ls

# The whole kernel log, whatever the console's log level let through.
begin dmesg
dmesg
end dmesg

echo "bt-test: done"
