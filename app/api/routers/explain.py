"""POST /explain/{method}: one route per registered method; GET /explain lists them.

(No `from __future__ import annotations` here: each route's query model is made at run time
and FastAPI must see it as an object, not a string.)"""

import inspect
from collections.abc import Hashable
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, create_model

from app.api.deps import RegistryDep, ServicesDep
from app.api.disconnect import run_unless_disconnected
from app.api.intake import read_upload
from app.api.openapi import image_request_body
from app.explain.base import Method, MethodParams, Workload
from app.explain.options import ExplainOptions
from app.explain.registry import METHODS
from app.explain.response import ExplainResponse
from app.explain.service import ImageUpload, RequestLimits, explain_image
from app.runtime.explain_batching import in_group, rows_per_run
from app.runtime.model import RunningModel

router = APIRouter(tags=["explain"])


class ModelChoice(BaseModel):
    """Which model explains (query parameters)."""

    model: str | None = Field(None, description="model name (default: the server's)")
    version: int | None = Field(None, ge=1, description="default: the highest")


class PassCount(BaseModel):
    forward: int = Field(description="rows run forwards (whole, or from a layer on)")
    backward: int = Field(description="rows run backwards (whole, or down to a layer)")


class MethodInfo(BaseModel):
    key: str = Field(description="the method's URL segment: POST /explain/{key}")
    family: str
    summary: str
    uses_layer: bool = Field(description="whether it reads a layer (`layer` parameter)")
    needs_gradients: bool
    parameters: dict[str, Any] = Field(description="JSON schema of each own parameter")
    models: list[str] = Field(description="the loaded models it works on")
    cost_rule: str = Field(description="what one request costs, in terms of its parameters")
    cost: dict[str, PassCount] = Field(
        description="per model it works on: the passes of one request with the default "
        "parameters and one target; the forward passes count against the request's budget"
    )


class MethodList(BaseModel):
    methods: list[MethodInfo]


def query_model(key: str, method: Method) -> type[BaseModel]:
    """The method's parameters, the common options and the model choice, as one query model."""
    name = "".join(part.title() for part in key.split("_")) + "Query"
    return create_model(name, __base__=(method.Params, ExplainOptions, ModelChoice))


def batch_key(
    key: str, method: Method, model: RunningModel, params: MethodParams, options: ExplainOptions
) -> Hashable | None:
    """What explanations must share to run together (their explain-graph runs stacked): the
    gradient and CAM methods, on one model version, with the same parameters. Others run
    alone: a perturbation method's many forward runs gain nothing from company, nor does a
    model whose explain runs are fastest one row at a time (`rows_per_run`: photo sizes)."""
    if method.family not in ("gradient", "cam"):
        return None
    if rows_per_run(int(np.prod(model.spec.batch_shape(1)))) == 1:
        return None
    return (model.name, model.version, key, params.model_dump_json(), options.model_dump_json())


def add_method_route(key: str, method: Method) -> None:
    query_type = query_model(key, method)
    key_name = key

    async def explain(
        request: Request,
        services: ServicesDep,
        query: Annotated[query_type, Query()],  # type: ignore[valid-type]
    ) -> ExplainResponse:
        settings = services.settings
        choice = ModelChoice.model_validate(query, from_attributes=True)
        model = services.registry.get(choice.model or settings.default_model, choice.version)
        if method.needs_gradients:
            model.engine.require()
        upload = await read_upload(request, 1)
        params: MethodParams = method.Params.model_validate(query, from_attributes=True)
        options = ExplainOptions.model_validate(query, from_attributes=True)
        image = ImageUpload(upload.images[0], upload.baseline)
        limits = RequestLimits(
            services.image_limits, settings.max_forward_passes, settings.max_explain_elements
        )
        together = batch_key(key_name, method, model, params, options)
        gate = services.explain_gate
        async with gate.slot(services.deadline(), together) as group:  # 503 when full
            return await run_unless_disconnected(
                request,
                in_group,
                group,
                explain_image,
                model,
                method,
                params,
                options,
                image,
                limits,
            )

    router.add_api_route(
        f"/explain/{key}",
        explain,
        methods=["POST"],
        name=key,
        response_model=ExplainResponse,
        response_model_exclude_none=True,
        summary=f"Explain with {key}: {method.summary}",
        description=(method.__doc__ or "").strip(),
        openapi_extra={"requestBody": image_request_body(1, baseline=True)},
    )


for _key, _method in METHODS.items():
    add_method_route(_key, _method)


@router.get("/explain", response_model=MethodList)
def list_methods(registry: RegistryDep) -> MethodList:
    """List the explanation methods, their parameters, and the models that support each."""
    models = registry.latest()
    return MethodList(methods=[method_info(key, method, models) for key, method in METHODS.items()])


def method_info(key: str, method: Method, models: list[RunningModel]) -> MethodInfo:
    supported = [model for model in models if method.supports(model)]
    costs = {
        model.name: method.cost(method.Params(), Workload.default(model)) for model in supported
    }
    return MethodInfo(
        key=key,
        family=method.family,
        summary=method.summary,
        uses_layer=method.uses_layer,
        needs_gradients=method.needs_gradients,
        parameters=method.Params.model_json_schema().get("properties", {}),
        models=[model.name for model in supported],
        cost_rule=inspect.getdoc(method.cost) or "",
        cost={name: PassCount(forward=c.forward, backward=c.backward) for name, c in costs.items()},
    )
