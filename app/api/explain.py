"""POST /explain/{method}: one route per registered method; GET /explain lists them.

(No `from __future__ import annotations` here: each route's query model is made at run time
and FastAPI must see it as an object, not a string.)"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field, create_model

from app.api.backpressure import explain_slot
from app.api.disconnect import run_unless_disconnected
from app.api.intake import IMAGE_REQUEST_BODY, read_upload
from app.explain.base import Method, MethodParams
from app.explain.registry import METHODS
from app.explain.service import check_supported, explain_image

router = APIRouter(tags=["explain"])

COMMON_FIELDS: dict[str, Any] = {
    "model": (str | None, Field(None, description="model name (default: the server's)")),
    "version": (int | None, Field(None, ge=1, description="default: the highest")),
    "target": (
        list[str],
        Field([], description="class index or label; repeat for several (default: top class)"),
    ),
    "layer": (str | None, Field(None, description="CAM layer (default: the model's)")),
    "colormap": (
        Literal["auto", "viridis", "inferno", "jet", "gray", "bwr"],
        Field("auto", description="auto: bwr for signed maps, viridis otherwise"),
    ),
    "alpha": (float, Field(0.5, ge=0.0, le=1.0, description="heatmap opacity over the input")),
    "raw": (
        Literal["none", "npy", "json"],
        Field("none", description="also return the float32 maps (T, H, W)"),
    ),
    "faithfulness": (
        bool,
        Field(False, description="also return deletion and insertion curves and their AUC"),
    ),
    "faithfulness_steps": (int, Field(20, ge=2, le=100, description="points per curve - 1")),
    "faithfulness_substrate": (
        Literal["zeros", "black", "blur"],
        Field("zeros", description="what replaces removed pixels: zero input, black, blurred"),
    ),
}
# the common fields explain_image reads (model and version choose the model)
OPTIONS = ("target", "layer", "colormap", "alpha", "raw", "faithfulness", "faithfulness_steps",
           "faithfulness_substrate")  # fmt: skip


def query_model(key: str, method: Method) -> type[MethodParams]:
    """The method's parameters plus the common ones, as one query-parameter model."""
    name = "".join(part.title() for part in key.split("_")) + "Query"
    return create_model(name, __base__=method.Params, **COMMON_FIELDS)


def add_method_route(key: str, method: Method) -> None:
    query_type = query_model(key, method)
    common = set(COMMON_FIELDS)

    async def explain(
        request: Request,
        query: Annotated[query_type, Query()],  # type: ignore[valid-type]
    ) -> dict[str, Any]:
        state = request.app.state
        values = query.model_dump()  # type: ignore[attr-defined]
        model = state.registry.get(
            values["model"] or state.settings.default_model, values["version"]
        )
        check_supported(method, model)
        upload = await read_upload(request, 1)
        params = method.Params.model_validate({k: v for k, v in values.items() if k not in common})
        options = {k: values[k] for k in OPTIONS}
        options["max_forward_passes"] = state.settings.max_forward_passes
        job = (upload.images[0], upload.baseline)
        async with explain_slot(request):  # a few at a time; 503 when the gate is full
            limits = state.settings.image_limits
            return await run_unless_disconnected(
                request, explain_image, model, method, params, job, options, limits
            )

    router.add_api_route(
        f"/explain/{key}",
        explain,
        methods=["POST"],
        name=key,
        summary=f"Explain with {key}: {method.summary}",
        description=(method.__doc__ or "").strip(),
        openapi_extra={"requestBody": IMAGE_REQUEST_BODY},
    )


for _key, _method in METHODS.items():
    add_method_route(_key, _method)


@router.get("/explain")
def list_methods(request: Request) -> dict[str, Any]:
    """List the explanation methods, their parameters, and the models that support each."""
    models = request.app.state.registry.latest()
    return {
        "methods": [
            {
                "key": key,
                "family": method.family,
                "summary": method.summary,
                "uses_layer": method.uses_layer,
                "needs_gradients": method.needs_gradients,
                "parameters": method.Params.model_json_schema().get("properties", {}),
                "models": [m.name for m in models if _supports(method, m)],
            }
            for key, method in METHODS.items()
        ]
    }


def _supports(method: Method, model: Any) -> bool:
    if method.needs_gradients and not model.engine.available:
        return False
    return not method.uses_layer or model.cam_layer is not None
