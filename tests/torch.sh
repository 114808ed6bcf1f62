# tests/torch.sh: sourced by the tests of a real torch.distributed run,
# after lib.sh.
#
#   torch_python           set py to a python that imports torch.distributed
#                          with gloo (Debian's python3-torch, for
#                          /usr/bin/python3: scripts/deps.sh check), or to ""
#   torch_allreduce FILE   write a script that joins one gloo process group
#                          from the environment xt gives each rank
#                          (init_method env://), checks that XT_RANK and
#                          LOCAL_RANK agree with it, all-reduces its rank,
#                          prints "rank R of W sum S", and logs sum, rank
#                          and world as metrics (rank 0's are the run's)

torch_python() {
	py=""
	for _p in python3 /usr/bin/python3; do
		if "$_p" -c 'import torch.distributed as d; assert d.is_gloo_available()' 2>/dev/null; then
			py=$_p
			return
		fi
	done
}

torch_allreduce() {
	cat >"$1" <<'EOS'
import datetime, json, os
import torch
import torch.distributed as dist

# init_method env://: MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
rank, world = dist.get_rank(), dist.get_world_size()
assert rank == int(os.environ["XT_RANK"])
assert rank % int(os.environ["LOCAL_WORLD_SIZE"]) == int(os.environ["LOCAL_RANK"])
t = torch.tensor([float(rank)])
dist.all_reduce(t)
print("rank", rank, "of", world, "sum", int(t.item()), flush=True)
with open(os.environ["XT_LOG"], "a") as f:
    f.write(json.dumps({"event": "metrics", "data": {"sum": t.item(), "rank": rank,
        "world": world}}) + "\n")
dist.destroy_process_group()
EOS
}
