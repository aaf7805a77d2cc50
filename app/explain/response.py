"""The answer of /explain/{method}, as types: what OpenAPI describes and the UI reads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.imaging.hints import Hint
from app.imaging.tensors import InputRegion
from app.store.manifest import ClassScore


class Curve(BaseModel):
    curve: list[float] = Field(description="the target's probability at each step")
    auc: float = Field(description="area under the curve over [0, 1]")


class Faithfulness(BaseModel):
    """Deletion (lower is more faithful) and insertion (higher is more faithful) curves."""

    deletion: Curve
    insertion: Curve


class HeatmapPicture(BaseModel):
    """One target's map: as pictures, its range, and optionally as data."""

    target: ClassScore = Field(description="the class this map explains")
    overlay_png: str = Field(description="base64 PNG: the map over the input picture")
    heatmap_png: str = Field(description="base64 PNG: the map alone")
    min: float
    max: float
    colormap: str
    raw: list[list[float]] | None = Field(default=None, description="with raw=json: the map (H, W)")
    faithfulness: Faithfulness | None = Field(default=None, description="with faithfulness=true")


class ClassLegendEntry(BaseModel):
    index: int
    label: str
    colour: str = Field(description="#rrggbb")


class ClassMap(BaseModel):
    """Occlusion's class map: for each pixel, the class that wins when it is hidden."""

    png: str = Field(description="base64 PNG, one colour per class")
    legend: list[ClassLegendEntry]


class ExplainTiming(BaseModel):
    preprocess_ms: float = Field(description="decoding, preprocessing and the prediction")
    explain_ms: float = Field(description="the method itself")
    faithfulness_ms: float = Field(description="the deletion and insertion curves, if asked")
    render_ms: float = Field(description="drawing the pictures")
    total_ms: float


class ExplainResponse(BaseModel):
    model: str
    version: int
    layer: str | None = Field(
        default=None, description="the layer a CAM method read (left out for the others)"
    )
    predictions: list[ClassScore] = Field(description="the image's top 5 classes, best first")
    input_png: str = Field(description="base64 PNG: the picture the model sees")
    maps: list[HeatmapPicture] = Field(description="one per target, in request order")
    extras: dict[str, Any] = Field(description="figures the method reports (see its docs)")
    class_map: ClassMap | None = Field(default=None, description="occlusion only")
    raw_npy: str | None = Field(default=None, description="with raw=npy: base64 .npy of (T, H, W)")
    input_region: InputRegion = Field(description="where the model's input lies on the upload")
    hints: list[Hint] = Field(description="why the answer may mean little (often none)")
    parameters: dict[str, Any] = Field(description="the method's parameters, defaults filled")
    timing: ExplainTiming
