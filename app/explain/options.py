"""What every explanation request may ask for besides the method's own parameters: targets,
layer, how the maps are drawn, raw arrays, faithfulness curves. The API parses these from the
query and hands this same object to the service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.explain.faithfulness import Substrate

Colormap = Literal["auto", "viridis", "inferno", "jet", "gray", "bwr"]
RawFormat = Literal["none", "npy", "json"]
MAX_TARGETS = 16


class ExplainOptions(BaseModel):
    """The options common to every method (query parameters of /explain/{method})."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: list[str] = Field(
        [], description=f"class index or label; repeat for several, at most {MAX_TARGETS} "
        "(default: top class)"
    )  # fmt: skip
    layer: str | None = Field(None, description="CAM layer (default: the model's)")
    colormap: Colormap = Field("auto", description="auto: bwr for signed maps, viridis otherwise")
    alpha: float = Field(0.5, ge=0.0, le=1.0, description="heatmap opacity over the input")
    raw: RawFormat = Field("none", description="also return the float32 maps (T, H, W)")
    faithfulness: bool = Field(
        False, description="also return deletion and insertion curves and their AUC"
    )
    faithfulness_steps: int = Field(20, ge=2, le=100, description="points per curve - 1")
    faithfulness_substrate: Substrate = Field(
        "zeros", description="what replaces removed pixels: zero input, black, blurred"
    )

    def colormap_for(self, signed: bool) -> str:
        """The colour map a map is drawn with: `auto` is bwr for signed maps, else viridis."""
        if self.colormap != "auto":
            return self.colormap
        return "bwr" if signed else "viridis"
