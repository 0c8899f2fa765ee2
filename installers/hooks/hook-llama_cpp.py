# llama_cpp's libraries are added by hearth.spec, each once, under the names the loader asks for;
# this hook keeps PyInstaller from collecting the package's other copies of them as well.
binaries: list = []
datas: list = []
