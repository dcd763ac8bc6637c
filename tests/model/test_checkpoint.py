import torch

from lcr_edge.labels import JESTER_LABELS
from lcr_edge.model import create_model
from lcr_edge.model.checkpoint import load_checkpoint, save_checkpoint


def test_checkpoints_saved_before_the_head_option_load_with_the_cls_head(tmp_path):
    model = create_model("lcr-s", dim=32, head="cls")
    save_checkpoint(tmp_path / "a.pt", model, JESTER_LABELS)
    ckpt = torch.load(tmp_path / "a.pt", weights_only=True)
    del ckpt["config"]["head"]  # as written before the option existed
    torch.save(ckpt, tmp_path / "old.pt")
    loaded, _ = load_checkpoint(tmp_path / "old.pt")
    assert loaded.config.head == "cls"
    x, e = torch.randn(1, 2, 3, 112, 112), torch.zeros(1, 2, 1, 112, 112)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, e), model(x, e))
