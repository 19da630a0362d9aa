import pathlib

grades = pathlib.Path("__GRADES__")
try:
    grades.mkdir(parents=True, exist_ok=True)
    (grades / "grades.json").write_text('{"student": 100}')
    result = "written inside the sandbox only"
except OSError as err:
    result = repr(err)
print(result)
