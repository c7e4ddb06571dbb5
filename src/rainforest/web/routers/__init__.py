"""One ``APIRouter`` per area of the workbench, each page beside its JSON twin."""
