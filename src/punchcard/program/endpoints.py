"""/api/v1/program: the program version in force, as applied from its file."""

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from punchcard.kit.http import SessionDep
from punchcard.program.http import VersionDep
from punchcard.program.models import ProgramVersionRow

router = APIRouter(prefix="/api/v1", tags=["program"])


@router.get("/program")
def read_program(session: SessionDep, version: VersionDep) -> dict[str, Any]:
    definition = session.execute(
        select(ProgramVersionRow.definition).where(
            ProgramVersionRow.program_id == version.program_id, ProgramVersionRow.version == version.version
        )
    ).scalar_one()
    return {"version": version.version, "definition": definition}
