
import sys, torch, timm
from torch.utils.flop_counter import FlopCounterMode
with torch.device("meta"):
    model = timm.create_model(sys.argv[1], pretrained=False).eval()
with FlopCounterMode(display=False) as counter:
    model(torch.empty(1, 3, 224, 224, device="meta"))
print(counter.get_total_flops() // 2)
