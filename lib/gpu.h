/*
 * gpu.h: the GPUs that the local target hands out to runs, one run each.
 *
 * A target's pool is the list of its GPUs' ids, as CUDA_VISIBLE_DEVICES
 * takes them: targets.NAME.gpus of the configuration (a list of numbers
 * or names such as GPU-<uuid>; "0,1,2" from the environment), else the
 * NVIDIA GPUs of this machine: 0 .. n-1 for the n entries of
 * /proc/driver/nvidia/gpus/ (PCI bus order: nvidia-smi's, and CUDA's
 * with CUDA_DEVICE_ORDER=PCI_BUS_ID), else for the "GPU N:" lines of
 * nvidia-smi -L when that is on $PATH. "gpus: []" says there are none.
 *
 * A GPU is held while a process holds the flock(2) of DIR/<id>.lock (DIR:
 * the spool's gpus/ folder), taken without waiting: every xt-runq that
 * drains the spool sees the same locks, and the lock of a holder killed
 * with -9 is free again at once.
 */
#ifndef XT_GPU_H
#define XT_GPU_H

#include <stddef.h>

struct gpu_pool {
	char **id;
	size_t n;
};

/*
 * Fill p (gpu_pool_release it) with the pool of target name. 0, or -1 with
 * a message in err (an id that is not a number or a name of letters,
 * digits and ".:_-", naming where it came from); p is then empty.
 */
int gpu_pool_load(struct gpu_pool *p, const char *name, char *err, size_t errlen);
void gpu_pool_release(struct gpu_pool *p);

/*
 * Take k free GPUs of p, in the pool's order, by their locks in dir
 * (created when missing). 1 with fds[0..k-1] holding them (close them to
 * let go; they are not inherited across exec) and *list their ids joined
 * with ',' (caller frees); 0, holding none, when fewer than k are free.
 */
int gpu_take(const struct gpu_pool *p, const char *dir, int k, int *fds, char **list);

#endif
